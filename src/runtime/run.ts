// `run` = create + start. Unless detached, it returns the init for the caller
// to wait for (see foreground.ts); a process with a terminal and no
// --console-socket comes with its pty master.
import { closeSync } from 'node:fs';
import { resolve } from 'node:path';
import { createContainer, type CreateOptions } from './create.js';
import { loadBundleConfig } from './bundle.js';
import { deleteContainer } from './delete.js';
import { RuntimeError } from '../common/errors.js';
import { startContainer } from './start.js';
import { consoleReceiver, receiveConsole } from './console.js';
import { foregroundProcess, type ForegroundProcess } from './foreground.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
}

/** Returns the started init, or undefined when detached. A failed start deletes the container. */
export function runContainer(opts: RunOptions): ForegroundProcess | undefined {
  const spec = loadBundleConfig(resolve(opts.bundle));
  const terminal = spec.process?.terminal === true;
  let attach: { mine: number; theirs: number } | undefined;
  if (terminal && !opts.consoleSocket) {
    if (opts.detach)
      throw new RuntimeError({ step: `run ${opts.id}`, pointer: '/process/terminal', detail: 'a detached container with a terminal needs --console-socket' });
    attach = consoleReceiver();
  }
  let record;
  try {
    record = createContainer({ ...opts, consoleFd: attach?.theirs });
  } finally {
    if (attach) closeSync(attach.theirs);
  }
  const master = attach ? receiveConsole(attach.mine) : -1;
  try {
    // Failed poststart hooks are warnings, never a failed run.
    for (const warning of startContainer(opts.root, opts.id)) opts.onWarning?.(warning);
  } catch (e) {
    deleteContainer(opts.root, opts.id, true);
    throw e;
  }
  if (opts.detach) {
    if (master >= 0) closeSync(master);
    return undefined;
  }
  return foregroundProcess(record.pid!, master);
}
