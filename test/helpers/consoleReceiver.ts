// A console-socket receiver as engines run one (console_receiver.py): listens
// on `sock`, takes the pty master, types `typed`, and resolves with what the
// container wrote once it closes its side.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const RECEIVER = resolve(import.meta.dirname, 'console_receiver.py');

export interface ConsoleReceiver {
  process: ChildProcess;
  /** The name sent with the fd and the container's output. */
  result: Promise<{ name: string; output: string }>;
}

/** Starts the receiver and resolves once it listens. */
export async function startConsoleReceiver(sock: string, typed: string): Promise<ConsoleReceiver> {
  const child = spawn('python3', [RECEIVER, sock, typed], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise((ok) => child.on('exit', ok));
  await new Promise<void>((ok) => child.stdout!.once('data', () => ok()));
  return { process: child, result: exited.then(() => JSON.parse(out.slice(out.indexOf('{')))) };
}
