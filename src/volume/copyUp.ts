// Docker's copy-up: an empty volume mounted where the image has content gets
// that content first (files, modes, owners, xattrs, symlinks as they are).
// The destination is resolved inside the container's rootfs as if the rootfs
// were / (a symlink never leads out of it); the copy is `cp -a`, out of
// process, so the daemon's event loop never waits on it.
import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { RuntimeError } from '../common/errors.js';
import { resolveInRootAsync } from '../common/resolveInRoot.js';

const run = promisify(execFile);

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
