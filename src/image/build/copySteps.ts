// COPY and ADD into a step's mounted rootfs, and the content hash that keys
// their cache. Sources are resolved inside their root (the extracted context,
// or another stage's rootfs) and the destination inside the step's rootfs,
// neither following a symlink out. Docker's destination rules: a trailing
// slash, several sources or an existing directory make `dest` a directory;
// a source directory's contents (not itself) are copied. Owners are 0:0
// unless --chown; modes are kept unless --chmod.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, readFile, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from '../../common/errors.js';
import { parseGroup, parsePasswd } from '../../common/passwd.js';
import { resolveInRootAsync } from '../../common/resolveInRoot.js';
import { decompress } from '../archive/decompress.js';
import { readTar, TarFormatError } from '../archive/tarReader.js';
import { applyLayer } from '../unpack/applyLayer.js';

const run = promisify(execFile);

/** Glob characters Docker's COPY understands (filepath.Match). */
const hasGlob = (p: string) => /[*?[]/.test(p);

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, '^')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The source paths (relative to root, '' for the root itself) a COPY source names. */
export async function resolveSources(root: string, source: string, what: string): Promise<string[]> {
  const clean = posix.normalize(`/${source}`).slice(1).replace(/\/$/, '');
  if (!hasGlob(clean)) {
    const full = await resolveInRootAsync(root, clean);
    try {
      await lstat(full);
    } catch {
      throw new RuntimeError({ kind: 'invalid-argument', step: `${what} failed: file not found in build context or excluded by .dockerignore: stat ${clean || '.'}: file does not exist` });
    }
    return [clean];
  }
  // A glob: match component by component from the root.
  let matches = [''];
  for (const part of clean.split('/')) {
    const next: string[] = [];
    for (const m of matches) {
      if (!hasGlob(part)) {
        const p = m ? `${m}/${part}` : part;
        try {
          await lstat(await resolveInRootAsync(root, p));
          next.push(p);
        } catch { /* absent */ }
        continue;
      }
      let names: string[] = [];
      try {
        names = await readdir(await resolveInRootAsync(root, m));
      } catch { /* not a directory */ }
      const re = globToRegExp(part);
      for (const n of names.sort()) if (re.test(n)) next.push(m ? `${m}/${n}` : n);
    }
    matches = next;
  }
  if (!matches.length) throw new RuntimeError({ kind: 'invalid-argument', step: `${what} failed: no source files were specified` });
  return matches;
}

/**
 * sha256 over what a COPY copies: names, types, modes, owners, link targets
 * and contents — never mtimes, so a `touch` keeps the cache.
 */
export async function hashSources(root: string, paths: string[]): Promise<string> {
  const h = createHash('sha256');
  const visit = async (rel: string, full: string) => {
    const st = await lstat(full);
    h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
    if (st.isSymbolicLink()) h.update(`-> ${await readlink(full)}\0`);
    else if (st.isFile()) {
      for await (const chunk of createReadStream(full)) h.update(chunk as Buffer);
      h.update('\0');
    } else if (st.isDirectory()) {
      for (const n of (await readdir(full)).sort()) await visit(`${rel}/${n}`, `${full}/${n}`);
    }
  };
  for (const p of paths) await visit(p, await resolveInRootAsync(root, p));
  return h.digest('hex');
}

export interface Owner {
  uid: number;
  gid: number;
}

/** --chown=user[:group], names looked up in the step's /etc/passwd and /etc/group. */
export async function resolveChown(rootfs: string, spec: string | undefined): Promise<Owner> {
  if (!spec) return { uid: 0, gid: 0 };
  const [user, group] = spec.split(':');
  const read = async (file: string) => readFile(await resolveInRootAsync(rootfs, file), 'utf8').catch(() => '');
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(user)) uid = Number(user);
  else {
    const e = parsePasswd(await read('/etc/passwd')).find((p) => p.name === user);
    if (!e) throw new RuntimeError({ kind: 'invalid-argument', step: `unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}` });
    uid = Number(e.uid);
    gid = Number(e.gid);
  }
  if (group !== undefined) {
    if (/^\d+$/.test(group)) gid = Number(group);
    else {
      const g = parseGroup(await read('/etc/group')).find((x) => x.name === group);
      if (!g) throw new RuntimeError({ kind: 'invalid-argument', step: `unable to convert uid/gid chown string to host mapping: can't find gid for group ${group}: no such group: ${group}` });
      gid = Number(g.gid);
    }
  }
  return { uid, gid: gid ?? uid };
}

async function chownTree(path: string, owner: Owner, mode: number | undefined): Promise<void> {
  const st = await lstat(path);
  await lchown(path, owner.uid, owner.gid);
  if (mode !== undefined && !st.isSymbolicLink()) await chmod(path, mode);
  if (st.isDirectory()) for (const n of await readdir(path)) await chownTree(`${path}/${n}`, owner, mode);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A destination directory inside rootfs, made (owned by `owner`) where missing. */
async function makeDestDir(rootfs: string, dest: string, owner: Owner): Promise<string> {
  let cur = '';
  for (const part of dest.split('/').filter(Boolean)) {
    cur = `${cur}/${part}`;
    const full = await resolveInRootAsync(rootfs, cur);
    if (!(await isDir(full))) {
      await mkdir(full, { mode: 0o755 });
      await lchown(full, owner.uid, owner.gid);
    }
  }
  return resolveInRootAsync(rootfs, dest || '/');
}

/** WORKDIR: the directory made inside rootfs (root-owned) where missing. */
export async function mkdirInRoot(rootfs: string, dir: string): Promise<void> {
  await makeDestDir(rootfs, dir, { uid: 0, gid: 0 });
}

const ARCHIVE_RE = /\.(tar|tar\.gz|tgz|tar\.bz2|tbz2|tar\.xz|txz|tar\.zst)$/;

export interface CopyRequest {
  kind: 'COPY' | 'ADD';
  /** Where the sources are (the context, or a stage's rootfs). */
  srcRoot: string;
  sources: string[];
  /** Absolute destination in the image (WORKDIR applied), with its trailing slash as written. */
  dest: string;
  chown?: string;
  chmod?: string;
}

/** Copies into `rootfs` (a mounted step container's). */
export async function copyInto(rootfs: string, r: CopyRequest, what: string): Promise<void> {
  const owner = await resolveChown(rootfs, r.chown);
  const mode = r.chmod !== undefined ? parseInt(r.chmod, 8) : undefined;
  if (mode !== undefined && (!/^[0-7]{3,4}$/.test(r.chmod!) || Number.isNaN(mode))) throw new RuntimeError({ kind: 'invalid-argument', step: `${what}: invalid --chmod ${r.chmod}` });
  const paths: string[] = [];
  for (const s of r.sources) {
    if (/^https?:\/\//.test(s)) throw new RuntimeError({ kind: 'invalid-argument', step: `${what}: ADD of a URL is not supported yet (${s})` });
    paths.push(...(await resolveSources(r.srcRoot, s, what)));
  }
  const destIsDir = r.dest.endsWith('/') || paths.length > 1 || (await isDir(await resolveInRootAsync(rootfs, r.dest)));
  if (paths.length > 1 && !r.dest.endsWith('/')) throw new RuntimeError({ kind: 'invalid-argument', step: `${what}: When using COPY with more than one source file, the destination must be a directory and end with a /` });
  for (const p of paths) {
    const src = await resolveInRootAsync(r.srcRoot, p);
    const st = await lstat(src);
    if (st.isDirectory()) {
      const destDir = await makeDestDir(rootfs, r.dest, owner);
      for (const n of (await readdir(src)).sort()) {
        await run('cp', ['-a', '--no-dereference', '-T', '--', `${src}/${n}`, `${destDir}/${n}`]);
        await chownTree(`${destDir}/${n}`, owner, mode);
      }
    } else if (r.kind === 'ADD' && st.isFile() && ARCHIVE_RE.test(p)) {
      const destDir = await makeDestDir(rootfs, r.dest, owner);
      try {
        await applyLayer(destDir, readTar(decompress(createReadStream(src), p)), 'delete', `ADD ${p}`);
      } catch (e) {
        if (e instanceof TarFormatError) throw new RuntimeError({ kind: 'invalid-argument', step: `${what}: ${p}: ${e.message}` });
        throw e;
      }
    } else {
      const name = posix.basename(p);
      const target = destIsDir ? `${await makeDestDir(rootfs, r.dest, owner)}/${name}` : await (async () => {
        await makeDestDir(rootfs, posix.dirname(r.dest), owner);
        return resolveInRootAsync(rootfs, r.dest);
      })();
      await run('cp', ['-a', '--no-dereference', '-T', '--', src, target]);
      await chownTree(target, owner, mode);
    }
  }
}
