// ADD <url>: the file fetched as Docker's classic builder fetches it — a plain
// GET (no proxy), redirects followed, the body written into the build's own
// copy of the context under a directory of its own, mode 0600 and the
// Last-Modified time, never extracted. The COPY machinery then copies it like
// any context file, and its content hash is the step's cache key.
import { createWriteStream } from 'node:fs';
import { mkdir, utimes } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RuntimeError } from '../../common/errors.js';

export const isUrl = (src: string) => /^https?:\/\//i.test(src);

const MAX_REDIRECTS = 10;
const TIMEOUT_MS = 60_000;

function request(url: string, redirects: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.toLowerCase().startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { timeout: TIMEOUT_MS }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`stopped after ${MAX_REDIRECTS} redirects`));
        return resolve(request(new URL(res.headers.location, url).toString(), redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`with status ${status} ${res.statusMessage ?? ''}`.trim()));
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
  });
}

/**
 * Fetches `url` into `<contextDir>/<dirName>/<name>` and returns that path
 * relative to the context. `name`: the destination's file name when it names
 * a file, else the URL path's last segment (Docker's rule).
 */
export async function fetchIntoContext(url: string, contextDir: string, dirName: string, destIsDir: boolean, destName: string): Promise<string> {
  const name = destIsDir ? posix.basename(new URL(url).pathname) : destName;
  if (!name || name === '/' || name === '.') throw new RuntimeError({ kind: 'invalid-argument', step: `cannot determine filename from url: ${url}` });
  const dir = join(contextDir, dirName);
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  let res: IncomingMessage;
  try {
    res = await request(url, 0);
  } catch (e) {
    throw new RuntimeError({ kind: 'invalid-argument', step: `failed to GET ${url} ${(e as Error).message}` });
  }
  try {
    await pipeline(res, createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    throw new RuntimeError({ kind: 'system', step: `failed to GET ${url}: the body: ${(e as Error).message}`, path: file });
  }
  const modified = Date.parse(String(res.headers['last-modified'] ?? ''));
  if (!Number.isNaN(modified)) await utimes(file, new Date(modified), new Date(modified));
  return posix.join(dirName, name);
}
