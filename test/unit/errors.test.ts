import { describe, expect, it } from 'vitest';
import { RuntimeError, inferKind } from '../../src/common/errors.js';

describe('RuntimeError kind', () => {
  it('comes from the errno where none is given, a config field meaning bad input', () => {
    expect(inferKind({ errno: 'ENOENT' })).toBe('not-found');
    expect(inferKind({ errno: 'EEXIST' })).toBe('exists');
    expect(inferKind({ errno: 'ECONNREFUSED' })).toBe('unavailable');
    expect(inferKind({ pointer: '/process/args' })).toBe('invalid-argument');
    expect(inferKind({ errno: 'EIO', pointer: '/mounts/0' })).toBe('system');
    expect(new RuntimeError({ step: 'x' }).kind).toBe('system');
  });
  it('an explicit kind wins, also through fromSystem', () => {
    expect(new RuntimeError({ step: 'start c', kind: 'invalid-state', detail: 'cannot start a container that is stopped' }).kind).toBe('invalid-state');
    const e = Object.assign(new Error('ENOENT: no such file or directory, open \'/x\''), { code: 'ENOENT', syscall: 'open', path: '/x' });
    expect(RuntimeError.fromSystem('read', e).kind).toBe('not-found');
    expect(RuntimeError.fromSystem('read', e, { kind: 'invalid-argument' }).kind).toBe('invalid-argument');
  });
});
