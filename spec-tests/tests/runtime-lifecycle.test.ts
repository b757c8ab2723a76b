// runtime.md: lifecycle, state, operations and their errors.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { bundle, newId, rt } from '../lib/runtime.js';

const b = bundle((c) => (c.process.args = ['sleep', '1000']));
afterAll(() => b.cleanup());
const state = (id: string) => JSON.parse(rt(['state', id]).stdout);
const waitStopped = (id: string) => {
  for (let i = 0; i < 300 && state(id).status !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
};

describe('runtime.md#lifecycle', () => {
  it('[MUST] create does not run the user program; start runs it; status follows created -> running -> stopped', () => {
    const id = newId();
    expect(rt(['create', '--bundle', b.dir, id]).code).toBe(0);
    try {
      const pid = state(id).pid;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      expect(cmdline.startsWith('sleep')).toBe(false);
      expect(rt(['start', id]).code).toBe(0);
      expect(state(id).status).toBe('running');
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
      expect(rt(['kill', id, 'KILL']).code).toBe(0);
      waitStopped(id);
      expect(state(id).status).toBe('stopped');
      expect(rt(['delete', id]).code).toBe(0);
      expect(rt(['state', id]).code).not.toBe(0);
    } finally {
      rt(['delete', '--force', id]);
    }
  });
});

