// Docker's copy-up: an empty volume mounted where the image has content gets
// that content first (files, modes, owners, xattrs, symlinks as they are).
// The destination is resolved inside the container's rootfs as if the rootfs
// were / (a symlink never leads out of it); the copy is `cp -a`, out of
// process, so the daemon's event loop never waits on it.
import { execFile } from 'node:child_process';
import { lstat, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { RuntimeError } from '../common/errors.js';

const run = promisify(execFile);

/** `path` inside `rootfs` with symlinks resolved within it (RESOLVE_IN_ROOT), async. */
export async function resolveInRootAsync(rootfs: string, path: string): Promise<string> {
  let parts = path.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === '.') continue;
    if (p === '..') {
      done.pop();
      continue;
    }
    const full = `${rootfs}/${[...done, p].join('/')}`;
    let st;
    try {
      st = await lstat(full);
    } catch {
      done.push(p, ...parts);
      break;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw new RuntimeError({ step: 'resolve in rootfs', path, syscall: 'readlink', errno: 'ELOOP', detail: 'too many symlinks' });
      const target = await readlink(full);
      if (target.startsWith('/')) done.length = 0;
      parts = [...target.split('/').filter(Boolean), ...parts];
    } else done.push(p);
  }
  return `${rootfs}/${done.join('/')}`;
}

/** Copies the image's content at `destination` into `data` (an empty volume); nothing when the image has no directory there. */
export async function copyUp(rootfs: string, destination: string, data: string): Promise<boolean> {
  const from = await resolveInRootAsync(rootfs, destination);
  const st = await lstat(from).catch(() => undefined);
  if (!st?.isDirectory()) return false;
  try {
    // `from/.` into `data`: the directory's own mode and owner too, as Docker's copyOwnership.
    await run('cp', ['-a', '--', `${from}/.`, data]);
  } catch (e) {
    throw new RuntimeError({ kind: 'system', step: `copying the image's content at ${destination} into its volume: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}` });
  }
  return true;
}
