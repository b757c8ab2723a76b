// `run` and `exec` in the foreground: tsrun stands in for the container's
// process. The signals tsrun receives go to it, and when it has a pty, tsrun's
// own terminal is attached (raw mode, window size, stdin and stdout copied).
// This is the CLI's business: the library never touches the process's signal
// handlers or stdin.
import { createReadStream, writeSync } from 'node:fs';
import type { ForegroundProcess } from '../runtime/foreground.js';
import { resizeConsole } from '../runtime/console.js';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGCONT'] as const;

/** Waits for the process, forwarding signals and attaching the terminal; returns its exit code. */
export async function attachForeground(child: ForegroundProcess): Promise<number> {
  const forward = (sig: NodeJS.Signals) => {
    try {
      process.kill(child.pid, sig);
    } catch { /* exited */ }
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  const detachTerminal = child.consoleFd >= 0 ? attachTerminal(child.consoleFd) : async () => {};
  const code = await child.wait();
  await detachTerminal();
  for (const sig of FORWARDED) process.off(sig, forward);
  return code;
}

/** Copies stdin to the pty master and the master to stdout; raw mode on a tty stdin. */
function attachTerminal(master: number): () => Promise<void> {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  const resize = () => {
    if (process.stdout.isTTY) resizeConsole(master, process.stdout.rows, process.stdout.columns);
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
