// tsctl push against a real registry (Debian's docker-registry on 127.0.0.1):
// a chunked upload (small --chunk-size) checked by the registry's own digest
// check and by pulling it back into an empty root and running it; a second
// push finds every blob there; credentials from an auth file (Basic), a wrong
// password naming the registry and the 401; an image that is not here.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, push, writeLayout, type BuiltLayer } from './buildImage.js';
import { startProxy } from './proxy.js';
import { startRegistry, type Registry } from './registry.js';
import { ok, tsctl, tsctlAsync } from './tsctl.js';

/**
 * A plain front for the registry that keeps the client's Host header, so that the
 * registry's upload Locations point back at it and every request of a push is seen.
 */
async function recordingFront(upstream: string): Promise<{ host: string; seen: Array<{ method: string; url: string; range?: string }>; close(): Promise<void> }> {
  const seen: Array<{ method: string; url: string; range?: string }> = [];
  const [uh, up] = upstream.split(':');
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, range: req.headers['content-range'] as string | undefined });
    const out = request({ host: uh, port: Number(up), method: req.method, path: req.url, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      ur.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let reg: Registry;
let work: string;
let root: string;
let extra: BuiltLayer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsctl-push-'));
  reg = await startRegistry();
  // Random hex: gzip leaves about half of it, several chunks of 64 KiB.
  extra = buildLayer({ 'data/noise': randomBytes(300_000).toString('hex') });
  writeLayout(join(work, 'layout'), { layers: [buildLayer(busyboxFiles()), extra] });
  push(join(work, 'layout'), `${reg.host}/src/app:v1`);
  root = mkdtempSync(join(work, 'root-'));
  ok(tsctl(root, ['pull', `${reg.host}/src/app:v1`]));
});

afterAll(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('tsctl push', () => {
  it('uploads in chunks; the image pulls back into an empty root and runs; a second push finds it all there', async () => {
    const front = await recordingFront(reg.host);
    const r = await tsctlAsync(root, ['push', '--chunk-size', '65536', `${reg.host}/src/app:v1`, `${front.host}/copy/app:v2`]);
    await front.close();
    expect(r.stderr).toMatch(/pushed/);
    expect(r.code).toBe(0);
    // The noise layer went in 64 KiB PATCHes, in order, then the closing PUT with its digest; the small config in one PUT.
    const patches = front.seen.filter((q) => q.method === 'PATCH');
    expect(patches.length).toBe(Math.ceil(extra.blob.length / 65536) + Math.ceil(buildLayer(busyboxFiles()).blob.length / 65536));
    expect(patches.filter((q) => q.range === '0-65535').length).toBe(2);
    expect(front.seen.some((q) => q.method === 'PUT' && q.url.includes(`digest=${encodeURIComponent(sha(extra.blob))}`))).toBe(true);
    expect(front.seen.at(-1)).toMatchObject({ method: 'PUT', url: '/v2/copy/app/manifests/v2' });
    const dest = `${reg.host}/copy/app:v2`;
    r.stdout = r.stdout.replace(front.host, reg.host);
    const m = new RegExp(`^${dest.replace(/[.]/g, '\\.')}: (sha256:[0-9a-f]{64}) size: (\\d+)\\n$`).exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    // The registry checked each blob's digest at the closing PUT; its manifest is ours.
    const blob = await fetch(`http://${reg.host}/v2/copy/app/blobs/${sha(extra.blob)}`);
    expect(blob.status).toBe(200);
    expect(sha(Buffer.from(await blob.arrayBuffer()))).toBe(sha(extra.blob));
    const manifest = await fetch(`http://${reg.host}/v2/copy/app/manifests/v2`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.headers.get('docker-content-digest')).toBe(m![1]);

    const fresh = mkdtempSync(join(work, 'root-'));
    ok(tsctl(fresh, ['pull', dest]));
    expect(extra.blob.length).toBeGreaterThan(4 * 65536);
    expect(ok(tsctl(fresh, ['run', '--rm', dest, 'sh', '-c', 'wc -c < /data/noise'])).stdout.trim()).toBe('600000');

    const again = await tsctlAsync(root, ['push', `${reg.host}/src/app:v1`, dest]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/: pushed/);
    expect(again.stderr).toMatch(/already exists/);
    expect(again.stdout).toBe(r.stdout);
  });

  it('takes credentials from the auth file; a wrong password and a missing image are named', async () => {
    const proxy = await startProxy({ upstream: reg.host, auth: 'basic', user: 'bob', password: 'pw' });
    try {
      const dest = `${proxy.host}/auth/app:v1`;
      const authFile = join(work, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { username: 'bob', password: 'wrong' } } }));
      const wrong = await tsctlAsync(root, ['push', '--auth-file', authFile, `${reg.host}/src/app:v1`, dest]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`push ${proxy.host}/auth/app`);
      expect(wrong.stderr).toContain('HTTP 401');
      expect(wrong.stderr).toContain('bob');
      writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { username: 'bob', password: 'pw' } } }));
      ok(await tsctlAsync(root, ['push', '--auth-file', authFile, `${reg.host}/src/app:v1`, dest]));
      expect(proxy.requests.some((q) => q.method === 'PUT' && q.url === '/v2/auth/app/manifests/v1' && q.authorization === `Basic ${Buffer.from('bob:pw').toString('base64')}`)).toBe(true);
    } finally {
      await proxy.close();
    }
    const missing = tsctl(root, ['push', `${reg.host}/nothere:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothere');
  });
});
