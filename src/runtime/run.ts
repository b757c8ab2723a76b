// `run` = create + start, then (unless detached) wait for the container's
// exit, forwarding signals, attaching the caller's terminal when the process
// asks for one, and deleting the container afterwards.
import { closeSync, createReadStream, writeSync } from 'node:fs';
import { addon, recvFd } from '../native/addon.js';
import { createContainer, loadBundleConfig, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { RuntimeError } from '../common/errors.js';
import { startContainer } from './start.js';
import { resolve } from 'node:path';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  /** --keep: leave the stopped container for the caller to delete (runc's run --keep). */
  keep?: boolean;
  /** Receives poststop hook failures (they do not change the exit code). */
  onWarning?: (message: string) => void;
}

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGCONT'] as const;

export async function runContainer(opts: RunOptions): Promise<number> {
  const spec = loadBundleConfig(resolve(opts.bundle));
  const terminal = spec.process?.terminal === true;
  let attach: { mine: number; theirs: number } | undefined;
  if (terminal && !opts.consoleSocket) {
    if (opts.detach)
      throw new RuntimeError({ step: `run ${opts.id}`, pointer: '/process/terminal', detail: 'a detached container with a terminal needs --console-socket' });
    const [mine, theirs] = addon().socketPair();
    attach = { mine, theirs };
  }
  let record;
  try {
    record = createContainer({ ...opts, consoleFd: attach?.theirs });
  } finally {
    if (attach) closeSync(attach.theirs);
  }
  let master = -1;
  if (attach) {
    master = recvFd(attach.mine, 10_000);
    closeSync(attach.mine);
  }
  try {
    startContainer(opts.root, opts.id);
  } catch (e) {
    deleteContainer(opts.root, opts.id, true);
    throw e;
  }
  if (opts.detach) {
    if (master >= 0) closeSync(master);
    return 0;
  }

  const code = await waitInForeground(record.pid!, master);
  if (!opts.keep) for (const warning of deleteContainer(opts.root, opts.id, true)) opts.onWarning?.(warning);
  return code;
}

/**
 * Waits for a child process (the init of `run`, the process of `exec`), forwarding
 * the signals tsrun receives and attaching the terminal when there is a pty master.
 * Returns its exit code, 128+signal when killed.
 */
export async function waitInForeground(pid: number, master: number): Promise<number> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch { /* exited */ }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  const detachTerminal = master >= 0 ? attachTerminal(master) : async () => {};
  const status = await addon().waitPidAsync(pid);
  await detachTerminal();
  for (const sig of FORWARDED) process.off(sig, forward);
  return status.signal !== undefined ? 128 + status.signal : status.exitCode ?? 0;
}

/** Copies stdin to the pty master and the master to stdout; raw mode on a tty stdin. */
export function attachTerminal(master: number): () => Promise<void> {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const resize = () => {
    if (process.stdout.isTTY) addon().setWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.on('SIGWINCH', resize);
  const onInput = (chunk: Buffer) => {
    try {
      writeSync(master, chunk);
    } catch { /* container gone */ }
  };
  stdin.on('data', onInput);
  const out = createReadStream('', { fd: master, autoClose: true });
  out.on('data', (chunk) => process.stdout.write(chunk));
  // The master reads EIO once the container's last slave fd is closed: that is the end of output.
  const drained = new Promise<void>((done) => {
    out.on('error', () => done());
    out.on('close', () => done());
    out.on('end', () => done());
  });
  return async () => {
    process.off('SIGWINCH', resize);
    stdin.off('data', onInput);
    stdin.pause();
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise<void>((done) => { timer = setTimeout(done, 2000); })]);
    clearTimeout(timer);
    out.destroy();
  };
}
