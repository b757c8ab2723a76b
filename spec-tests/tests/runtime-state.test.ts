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

describe('runtime.md#state', () => {
  it('[MUST] state: ociVersion, id, status, bundle (absolute) and pid of a created container', () => {
    const id = newId();
    expect(rt(['create', '--bundle', b.dir, id]).code).toBe(0);
    try {
      const s = state(id);
      expect(s.ociVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(s.id).toBe(id);
      expect(s.status).toBe('created');
      expect(s.bundle).toBe(b.dir);
      expect(s.pid).toBeGreaterThan(0);
      expect(existsSync(`/proc/${s.pid}`)).toBe(true);
    } finally {
      rt(['delete', '--force', id]);
    }
  });
  it('[MUST] annotations in the state are those of the config', () => {
    const a = bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.annotations = { 'org.example.key': 'value' };
    });
    const id = newId();
    try {
      expect(rt(['create', '--bundle', a.dir, id]).code).toBe(0);
      expect(state(id).annotations).toEqual({ 'org.example.key': 'value' });
    } finally {
      rt(['delete', '--force', id]);
      a.cleanup();
    }
  });
});

