// A container's network namespace, made and pinned by the engine before the
// runtime creates the container (which joins it through
// linux.namespaces[network].path), so the namespace and what the CNI plugins
// put in it outlive the container's processes until the engine tears it down.
//
// The namespace is made by util-linux's `unshare --net=FILE true`: a small C
// program that unshares and bind-mounts its /proc/self/ns/net onto FILE. This
// keeps the rule that no JavaScript runs in a cloned child and needs no new
// addon code; it runs as an async child process (~5 ms), so the daemon's loop
// never waits on it. `umount` (util-linux) undoes the pin the same way.
import { spawn } from 'node:child_process';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RuntimeError } from '../common/errors.js';

function run(step: string, binary: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(RuntimeError.fromSystem(step, e, { path: binary })));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new RuntimeError({ kind: 'system', step, detail: err.trim() || `${binary} exited with status ${code}` }))));
  });
}

/** Makes a new network namespace pinned at `path` (its directory made 0700). */
export async function pinNetns(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // The mount point: a new empty file (O_EXCL: a pin already there is somebody's).
  try {
    await writeFile(path, '', { flag: 'wx', mode: 0o444 });
  } catch (e) {
    throw RuntimeError.fromSystem('create the network namespace pin', e, { path });
  }
  try {
    await run(`create the network namespace ${path}`, 'unshare', [`--net=${path}`, 'true']);
  } catch (e) {
    await rm(path, { force: true });
    throw e;
  }
}

/** Lets the namespace at `path` go (umount + unlink); a pin already gone is fine. */
export async function unpinNetns(path: string): Promise<void> {
  if (!(await access(path).then(() => true, () => false))) return;
  // A file that is no mount point (a crash between the file and the mount) is just removed.
  await run(`unpin the network namespace ${path}`, 'umount', ['--lazy', path]).catch(() => {});
  try {
    await rm(path, { force: true });
  } catch (e) {
    throw RuntimeError.fromSystem('remove the network namespace pin', e, { path });
  }
}
