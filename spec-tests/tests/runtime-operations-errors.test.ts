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

describe('runtime.md#operations errors', () => {
  it('[MUST] create with an id already in use fails and leaves the first container alone', () => {
    const id = newId();
    expect(rt(['create', '--bundle', b.dir, id]).code).toBe(0);
    try {
      const pid = state(id).pid;
      expect(rt(['create', '--bundle', b.dir, id]).code).not.toBe(0);
      expect(state(id)).toMatchObject({ status: 'created', pid });
    } finally {
      rt(['delete', '--force', id]);
    }
  });
  it('[MUST] start of a container that is not created fails', () => {
    const id = newId();
    expect(rt(['run', '-d', '--bundle', b.dir, id]).code).toBe(0);
    try {
      expect(rt(['start', id]).code).not.toBe(0);
    } finally {
      rt(['delete', '--force', id]);
    }
  });
  it('[MUST] delete of a running container fails (without force)', () => {
    const id = newId();
    expect(rt(['run', '-d', '--bundle', b.dir, id]).code).toBe(0);
    try {
      expect(rt(['delete', id]).code).not.toBe(0);
      expect(state(id).status).toBe('running');
    } finally {
      rt(['delete', '--force', id]);
    }
  });
  it('[MUST] kill sends the signal to the container process', () => {
    const id = newId();
    expect(rt(['run', '-d', '--bundle', b.dir, id]).code).toBe(0);
    try {
      expect(rt(['kill', id, 'KILL']).code).toBe(0);
      waitStopped(id);
      expect(state(id).status).toBe('stopped');
    } finally {
      rt(['delete', '--force', id]);
    }
  });
  it('[MUST] operations on an unknown id fail', () => {
    for (const verb of ['state', 'start', 'kill', 'delete']) expect(rt([verb, 'no-such-container']).code).not.toBe(0);
  });
});
