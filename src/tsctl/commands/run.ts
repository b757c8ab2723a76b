// tsctl run: bundle + `<runtime> run` + cleanup. The image is pulled first
// when it is not here. The runtime is a separate process (any runc-compatible
// binary), attached to this terminal.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { parseArgs, flagBool, UsageError } from '../../common/argv.js';
import { openSnapshotter, REGISTRY_FLAGS, pullOptions, type TsctlGlobals } from '../context.js';
import { progressFor } from '../progressBars.js';
import { CONTAINER_FLAGS, containerRequest } from './containerFlags.js';

/** `<runtime> --root <runtime-root> ARGS...`; its exit code (128+n for a signal). */
export async function runRuntime(g: TsctlGlobals, args: string[], stdio: 'inherit' | 'ignore'): Promise<number> {
  const cmd = g.runtime;
  const child = spawn(cmd, ['--root', g.runtimeRoot, ...args], { stdio });
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(Object.assign(new Error(`cannot run the runtime ${cmd}: ${e.message}`), { name: 'UsageError' })));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export default async function runCommand(args: string[], g: TsctlGlobals): Promise<number> {
  const p = parseArgs(args, [...CONTAINER_FLAGS, ...REGISTRY_FLAGS, { name: 'rm', kind: 'bool', help: 'remove the container when it exits' }], 1);
  if (p.positionals.length < 1) throw new UsageError('usage: tsctl run [options] IMAGE [COMMAND...]');
  const [image, ...command] = p.positionals;
  const snapshotter = await openSnapshotter(g);
  const { createBundle, removeContainer, newContainerId } = await import('../../image/containers.js');
  const { findImage } = await import('../../image/resolveImage.js');
  try {
    findImage(g.root, image);
  } catch {
    const { pull } = await import('../../image/pull.js');
    await pull(g.root, snapshotter, image, { ...(await pullOptions(g, p)), progress: progressFor(process.stderr, false) });
  }
  const req = containerRequest(p, command);
  const id = req.id ?? newContainerId();
  const record = await createBundle(g.root, snapshotter, image, join(g.stateDir, 'bundles', id), { ...req, id });
  // The runtime handles the terminal and forwards signals; tsctl only waits.
  const ignore = () => {};
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(s, ignore);
  let code: number;
  try {
    code = await runRuntime(g, ['run', '--bundle', record.bundle, id], 'inherit');
  } finally {
    await runRuntime(g, ['delete', '--force', id], 'ignore').catch(() => 0);
    const { unmount } = await import('../../image/snapshots/mount.js');
    unmount(join(record.bundle, 'rootfs'));
    if (flagBool(p, 'rm')) await removeContainer(g.root, snapshotter, id);
  }
  return code;
}
