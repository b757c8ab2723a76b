// The cache key of a COPY/ADD from the build context: its sources resolved
// as dockerd 20.10's copier does (a leading `/` and `./` dropped, Go
// filepath.Match globs over the context, symlinks followed only inside it,
// a path leading out refused by name) and a sha256 over what would be copied:
// names, types, contents, permission bits, uid/gid and link targets — never
// times, so a touched file keeps its key and one changed byte or mode does not.
// The caller adds the destination and the parent image to its cache key.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { RuntimeError } from '../../common/errors.js';
import { resolveInRootAsync } from '../../common/resolveInRoot.js';
import { cleanPath, goMatch } from './dockerignore.js';

export interface CopySourcesRequest {
  /** The extracted build context. */
  contextDir: string;
  /** The sources as substituted (not the destination). */
  sources: string[];
  chown?: string;
  chmod?: string;
  /** For the messages: "COPY failed: ...". */
  instruction?: 'COPY' | 'ADD';
}

export type SourceType = 'file' | 'directory' | 'symlink' | 'other';

export interface ResolvedSource {
  /** The source as written, or the match of a glob. */
  source: string;
  /** Its place in the context after symlinks (slashes, "." for the context itself). */
  path: string;
  type: SourceType;
}

export interface CopySourcesHash {
  /** `sha256:<hex>`. */
  digest: string;
  resolved: ResolvedSource[];
}

/** Docker's containsWildcards: an unescaped `*`, `?` or `[`. */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '\\') i++;
    else if (name[i] === '*' || name[i] === '?' || name[i] === '[') return true;
  }
  return false;
}

function typeOf(st: Stats): SourceType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

/** A source as the copier takes it: leading `/` (unless alone) and `./` dropped. */
function normalizeSource(source: string): string {
  let p = source;
  if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('./')) p = p.slice(2);
  return p;
}

function escapesContext(p: string): boolean {
  const c = cleanPath(p);
  return c === '..' || c.startsWith('../');
}

/** Resolves the sources of a COPY/ADD in the context and hashes what they select. */
export async function hashCopySources(req: CopySourcesRequest): Promise<CopySourcesHash> {
  const instruction = req.instruction ?? 'COPY';
  const failed = (detail: string, kind: 'invalid-argument' | 'not-found' = 'invalid-argument') =>
    new RuntimeError({ kind, step: `${instruction} failed`, detail });
  const root = req.contextDir.replace(/\/+$/, '') || '/';
  const resolved: ResolvedSource[] = [];
  for (const source of req.sources) {
    const p = normalizeSource(source);
    if (escapesContext(p)) throw failed(`forbidden path outside the build context: ${source} ()`);
    if (containsWildcards(p)) {
      let pattern = p;
      try {
        goMatch(pattern, '.');
      } catch {
        throw failed(`syntax error in pattern ${JSON.stringify(source)}`);
      }
      pattern = pattern.replace(/\/+$/, '');
      for await (const rel of walkNames(root, '')) {
        if (goMatch(pattern, rel)) resolved.push(await resolveOne(root, rel, rel, failed));
      }
      continue;
    }
    resolved.push(await resolveOne(root, source, p, failed));
  }
  if (resolved.length === 0) throw failed('no source files were specified');

  const h = createHash('sha256');
  const record = (fields: Array<string | number>) => h.update(`${JSON.stringify(fields)}\n`);
  record(['tsrun copy sources v1', req.chown ?? '', req.chmod ?? '']);
  for (const r of resolved) {
    record(['source', r.source, r.path]);
    const abs = r.path === '.' ? root : `${root}/${r.path}`;
    await hashTree(abs, '.', record);
  }
  return { digest: `sha256:${h.digest('hex')}`, resolved };
}

async function resolveOne(
  root: string,
  source: string,
  p: string,
  failed: (d: string, kind?: 'not-found') => RuntimeError,
): Promise<ResolvedSource> {
  const inside = await resolveInRootAsync(root, p === '' || p === '/' ? '.' : p);
  const rel = inside.slice(root.length + 1).replace(/\/+$/, '');
  const path = cleanPath(rel === '' ? '.' : rel);
  let st: Stats;
  try {
    st = await lstat(path === '.' ? root : `${root}/${path}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw failed(`file not found in build context or excluded by .dockerignore: stat ${p}: file does not exist`, 'not-found');
    }
    throw RuntimeError.fromSystem('stat build context source', e, { path: `${root}/${path}` });
  }
  return { source, path, type: typeOf(st) };
}

/** Context-relative names in Go's Walk order (bytewise sorted, parents first), symlinks not followed. */
async function* walkNames(root: string, rel: string): AsyncGenerator<string> {
  const abs = rel === '' ? root : `${root}/${rel}`;
  for (const name of await sortedNames(abs)) {
    const path = rel === '' ? name : `${rel}/${name}`;
    yield path;
    const st = await lstat(`${root}/${path}`);
    if (st.isDirectory()) yield* walkNames(root, path);
  }
}

async function sortedNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const d of await opendir(dir)) names.push(d.name);
  } catch (e) {
    throw RuntimeError.fromSystem('read build context', e, { path: dir });
  }
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** One record per entry (lstat: a symlink is hashed by its target, never followed), directories recursively. */
async function hashTree(abs: string, rel: string, record: (fields: Array<string | number>) => void): Promise<void> {
  let st: Stats;
  try {
    st = await lstat(abs);
  } catch (e) {
    throw RuntimeError.fromSystem('stat build context source', e, { path: abs });
  }
  const type = typeOf(st);
  const common: Array<string | number> = [rel, type, st.mode & 0o7777, st.uid, st.gid];
  if (type === 'file') {
    record([...common, st.size, await fileDigest(abs)]);
  } else if (type === 'symlink') {
    record([...common, await readlink(abs)]);
  } else if (type === 'directory') {
    record(common);
    for (const name of await sortedNames(abs)) await hashTree(`${abs}/${name}`, rel === '.' ? name : `${rel}/${name}`, record);
  } else {
    record([...common, st.mode & 0o170000, Number(st.rdev)]);
  }
}

async function fileDigest(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    throw RuntimeError.fromSystem('read build context file', e, { path });
  }
  return h.digest('hex');
}
