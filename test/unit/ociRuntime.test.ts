// What the engine reads from a runtime binary's output. The binaries here are small shell
// scripts standing in for a runtime whose answers are known; the real runtimes are driven by
// test/supervisor and test/robustness.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OciRuntime } from '../../src/engine/ociRuntime.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-ociruntime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeRuntime(name: string, script: string): OciRuntime {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return new OciRuntime(path, dir);
}

describe('OciRuntime.status', () => {
  it('reads the whole state document, also when the runtime exits before its output is read', async () => {
    // 256 KiB does not fit a pipe's buffer: the process's exit can be seen before the rest
    // of its output, which read as "no such container" when status() answered on 'exit'.
    const pad = 'x'.repeat(256 * 1024);
    const runtime = fakeRuntime('big-state', `printf '{"ociVersion":"1.0.2","status":"running","pad":"${pad}"}'`);
    for (let i = 0; i < 10; i++) expect(await runtime.status('c1')).toBe('running');
  });

  it('is undefined for a container the runtime does not have, and for a binary that cannot run', async () => {
    const noSuch = fakeRuntime('no-such', 'echo "container does not exist" >&2; exit 1');
    expect(await noSuch.status('c1')).toBeUndefined();
    expect((await noSuch.state('c1')).answer).toMatch(/state exited with 1: container does not exist$/);
    expect((await fakeRuntime('garbage', 'echo not-json').state('c1')).answer).toMatch(/printed no state document: "not-json\\n"/);
    expect(await new OciRuntime(join(dir, 'missing'), dir).status('c1')).toBeUndefined();
  });
});
