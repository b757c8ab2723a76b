// Builds the static probe once per run.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export default function setup(): void {
  const here = resolve(import.meta.dirname, '..');
  mkdirSync(resolve(here, 'build'), { recursive: true });
  execFileSync('gcc', ['-static', '-O2', '-o', resolve(here, 'build/probe'), resolve(here, 'probe/probe.c')]);
}
