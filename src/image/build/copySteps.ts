// COPY and ADD into a step's mounted rootfs. The sources come resolved inside
// their root (the extracted context, or another stage's rootfs: contextHash.ts)
// and the destination is resolved inside the step's rootfs, neither following
// a symlink out. Docker's destination rules: a trailing
// slash, several sources or an existing directory make `dest` a directory;
// a source directory's contents (not itself) are copied. Owners are 0:0
// unless --chown; modes are kept unless --chmod.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, lchown, lstat, mkdir, readdir, readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from '../../common/errors.js';
import { parseGroup, parsePasswd } from '../../common/passwd.js';
import { resolveInRootAsync } from '../../common/resolveInRoot.js';
import { decompress } from '../archive/decompress.js';
import { readTar, TarFormatError } from '../archive/tarReader.js';
import { applyLayer } from '../unpack/applyLayer.js';

const run = promisify(execFile);

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
  /** The sources resolved inside srcRoot (contextHash.ts), '.' for srcRoot itself. */
  paths: string[];
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
  const paths = r.paths;
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
