// config.md#posix-platform-hooks with runtime.md's lifecycle points.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, newId, rt } from '../lib/runtime.js';

describe('config.md#posix-platform-hooks', () => {
  it('[MUST] createRuntime runs during create, poststart after start, poststop during delete, each with the state on stdin', () => {
    const b = bundle((c, dir) => {
      const log = join(dir, 'hooks.log');
      writeFileSync(join(dir, 'hook.sh'), `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`);
      chmodSync(join(dir, 'hook.sh'), 0o755);
      const h = (kind: string) => ({ path: join(dir, 'hook.sh'), args: ['hook.sh', kind] });
      c.process.args = ['sleep', '1000'];
      c.hooks = { createRuntime: [h('createRuntime')], poststart: [h('poststart')], poststop: [h('poststop')] };
    });
    const log = join(b.dir, 'hooks.log');
    const kinds = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]) : []);
    const id = newId();
    try {
      expect(rt(['create', '--bundle', b.dir, id]).code).toBe(0);
      expect(kinds()).toEqual(['createRuntime']);
      const st = JSON.parse(readFileSync(log, 'utf8').split('\n')[0].slice('createRuntime '.length));
      expect(st.id).toBe(id);
      expect(st.pid).toBeGreaterThan(0);
      expect(rt(['start', id]).code).toBe(0);
      expect(kinds()).toEqual(['createRuntime', 'poststart']);
      expect(rt(['delete', '--force', id]).code).toBe(0);
      expect(kinds()).toEqual(['createRuntime', 'poststart', 'poststop']);
    } finally {
      rt(['delete', '--force', id]);
      b.cleanup();
    }
  });
  it('[MUST] a failing poststart hook is only a warning: the remaining poststart hooks run and the container keeps running', () => {
    const b = bundle((c, dir) => {
      const log = join(dir, 'hooks.log');
      writeFileSync(join(dir, 'hook.sh'), `#!/bin/sh\necho "$1" >> ${log}\n[ "$1" != first ]\n`);
      chmodSync(join(dir, 'hook.sh'), 0o755);
      c.process.args = ['sleep', '1000'];
      c.hooks = { poststart: [{ path: join(dir, 'hook.sh'), args: ['hook.sh', 'first'] }, { path: join(dir, 'hook.sh'), args: ['hook.sh', 'second'] }] };
    });
    const id = newId();
    try {
      expect(rt(['create', '--bundle', b.dir, id]).code).toBe(0);
      expect(rt(['start', id]).code).toBe(0);
      expect(readFileSync(join(b.dir, 'hooks.log'), 'utf8')).toBe('first\nsecond\n');
      expect(JSON.parse(rt(['state', id]).stdout).status).toBe('running');
    } finally {
      rt(['delete', '--force', id]);
      b.cleanup();
    }
  });
  it('[MUST] a failing createRuntime hook fails create and nothing is left', () => {
    const b = bundle((c) => (c.hooks = { createRuntime: [{ path: '/bin/false' }] }));
    const id = newId();
    try {
      expect(rt(['create', '--bundle', b.dir, id]).code).not.toBe(0);
      expect(rt(['state', id]).code).not.toBe(0);
    } finally {
      rt(['delete', '--force', id]);
      b.cleanup();
    }
  });
});
