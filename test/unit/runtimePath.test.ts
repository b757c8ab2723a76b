// tsd's --runtime: a path, or a name looked up in PATH as dockerd does.
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimePath } from '../../src/supervisor/runtimePath.js';

describe('runtimePath', () => {
  it('finds a name in PATH, takes a path as given, refuses a name found nowhere', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runtime-path-'));
    try {
      writeFileSync(join(dir, 'myrunc'), '#!/bin/sh\n');
      chmodSync(join(dir, 'myrunc'), 0o755);
      writeFileSync(join(dir, 'notexec'), '');
      expect(runtimePath('myrunc', `/nonexistent:${dir}`)).toBe(join(dir, 'myrunc'));
      expect(() => runtimePath('notexec', dir)).toThrow(/no executable of that name is in PATH/);
      expect(() => runtimePath('nosuch', dir)).toThrow(/--runtime: "nosuch"/);
      expect(runtimePath('/opt/x/runc', dir)).toBe('/opt/x/runc');
      expect(runtimePath('./bin/x', dir)).toBe(join(process.cwd(), 'bin/x'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
