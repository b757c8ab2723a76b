// Runs the real tsrun binary, as users and engines do.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const TSRUN = resolve(import.meta.dirname, '../../bin/tsrun');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const outDir = mkdtempSync(join(tmpdir(), 'tsrun-out-'));

/**
 * Runs tsrun to completion. stdout/stderr go to files, not pipes: a created
 * container inherits them and would hold a pipe open long after tsrun exits.
 */
export function tsrunSync(args: string[], opts: SpawnSyncOptions = {}): Result {
  const outPath = join(outDir, 'stdout');
  const errPath = join(outDir, 'stderr');
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  try {
    const r = spawnSync(TSRUN, args, { timeout: 60_000, stdio: ['ignore', out, err], ...opts });
    return { code: r.status ?? 128 + (r.signal ? 9 : 0), stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

let asyncCounter = 0;

/** Like tsrunSync but without blocking the test process: stdin is a pipe fed with `input`. */
export function tsrunAsync(args: string[], input?: string): Promise<Result> {
  const n = ++asyncCounter;
  const outPath = join(outDir, `stdout-${n}`);
  const errPath = join(outDir, `stderr-${n}`);
  const out = openSync(outPath, 'w');
  const err = openSync(errPath, 'w');
  return new Promise((done) => {
    const child = spawn(TSRUN, args, { stdio: ['pipe', out, err] });
    closeSync(out);
    closeSync(err);
    // 'exit', not 'close': a container started here may keep inherited fds open.
    child.on('exit', (code, signal) =>
      done({ code: code ?? 128 + (signal ? 9 : 0), stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** A private --root for one test file. */
export function makeRoot(): string {
  return mkdtempSync(join(tmpdir(), 'tsrun-root-'));
}

let counter = 0;
export function uniqueId(prefix = 'c'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}
