// Runs the real tsctl binary against a test data root.
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const TSCTL = resolve(import.meta.dirname, '../../bin/tsctl');

export interface Result { code: number; stdout: string; stderr: string }

const argv = (root: string, args: string[]) => ['--root', root, '--runtime-root', join(root, 'run'), '--state-dir', join(root, 'state'), ...args];

/** For tests that serve the registry from this process: the event loop must keep running. */
export function tsctlAsync(root: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  const child = spawn(TSCTL, argv(root, args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

export function tsctl(root: string, args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(TSCTL, argv(root, args), {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function ok(r: Result): Result {
  if (r.code !== 0) throw new Error(`tsctl failed (${r.code}): ${r.stderr}`);
  return r;
}
