// config.md hooks at runtime.md's lifecycle points: which namespace, when,
// with what on stdin, and what a failing hook does.
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { guardHost, snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Hook } from '../../src/spec/types.js';

let root: string;
let before: HostSnapshot;
guardHost((r, b) => ((root = r), (before = b)), { deleteLeftovers: true });

const T = (...args: string[]) => tsrunSync(['--root', root, ...args]);

/** A bundle with a log dir shared by host and container, and a hook script that records its kind, namespace and stdin. */
function hookBundle(edit: (b: Bundle, log: string) => void): { b: Bundle; log: string; entries: () => Array<{ kind: string; mnt: string; state: any }> } {
  const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
  const logDir = join(b.dir, 'hooklog');
  mkdirSync(logDir);
  chmodSync(logDir, 0o777);
  b.config.mounts!.push({ destination: '/hooklog', type: 'bind', source: logDir, options: ['rbind', 'rw'] });
  // The same script on the host and in the rootfs: hooks resolve their path in different namespaces.
  const script = '#!/bin/sh\nstate=$(cat)\necho "$1 $(readlink /proc/self/ns/mnt) $state" >> "$2"\nexit "${3:-0}"\n';
  for (const dir of [b.dir, join(b.rootfs, 'bin')]) {
    writeFileSync(join(dir, 'hook.sh'), script);
    chmodSync(join(dir, 'hook.sh'), 0o755);
  }
  const log = join(logDir, 'hooks.log');
  edit(b, log);
  b.write();
  return {
    b,
    log,
    entries: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8').trim().split('\n').map((l) => {
            const [kind, mnt, ...rest] = l.split(' ');
            return { kind, mnt, state: JSON.parse(rest.join(' ')) };
          })
        : [],
  };
}

const hostHook = (b: Bundle, kind: string, log: string, exit = 0): Hook => ({ path: join(b.dir, 'hook.sh'), args: ['hook.sh', kind, log, String(exit)] });
const containerHook = (kind: string, exit = 0): Hook => ({ path: '/bin/hook.sh', args: ['hook.sh', kind, '/hooklog/hooks.log', String(exit)] });

describe('hooks', () => {
  it('run at the right lifecycle points, in the right namespace, with the state on stdin', () => {
    const { b, log, entries } = hookBundle((b, log) => {
      b.config.hooks = {
        prestart: [hostHook(b, 'prestart', log)],
        createRuntime: [hostHook(b, 'createRuntime', log)],
        createContainer: [hostHook(b, 'createContainer', log)],
        startContainer: [containerHook('startContainer')],
        poststart: [hostHook(b, 'poststart', log)],
        poststop: [hostHook(b, 'poststop', log), hostHook(b, 'poststop2', log)],
      };
    });
    const id = uniqueId('hooks');
    try {
      expect(T('create', '--bundle', b.dir, id).stderr).toBe('');
      const pid = JSON.parse(T('state', id).stdout).pid;
      expect(entries().map((e) => e.kind)).toEqual(['prestart', 'createRuntime', 'createContainer']);
      const hostMnt = readlinkSync('/proc/self/ns/mnt');
      const containerMnt = readlinkSync(`/proc/${pid}/ns/mnt`);
      const [pre, cr, cc] = entries();
      expect(pre.mnt).toBe(hostMnt);
      expect(cr.mnt).toBe(hostMnt);
      expect(cc.mnt).toBe(containerMnt); // createContainer: in the container namespace
      expect(cr.state).toEqual({ ociVersion: '1.2.0', id, status: 'creating', pid, bundle: b.dir, annotations: {} });

      expect(T('start', id).stderr).toBe('');
      expect(entries().map((e) => e.kind)).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart']);
      const [, , , sc, ps] = entries();
      expect(sc.mnt).toBe(containerMnt);
      expect(sc.state).toMatchObject({ id, status: 'created', pid });
      expect(ps.mnt).toBe(hostMnt);
      expect(ps.state).toMatchObject({ id, status: 'running', pid });

      expect(T('kill', id, 'KILL').code).toBe(0);
      for (let i = 0; i < 100 && !T('state', id).stdout.includes('stopped'); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      expect(T('delete', id).stderr).toBe('');
      const kinds = entries().map((e) => e.kind);
      expect(kinds.slice(5)).toEqual(['poststop', 'poststop2']);
      expect(entries()[5].state).toMatchObject({ id, status: 'stopped' });
      expect(log).toContain('hooklog');
    } finally {
      T('delete', '--force', id);
      b.cleanup();
    }
  });

  it('a failing createRuntime hook fails create with its path, field and exit status, leaving nothing', () => {
    const { b } = hookBundle((b, log) => (b.config.hooks = { createRuntime: [hostHook(b, 'createRuntime', log, 3)] }));
    try {
      const r = T('create', '--bundle', b.dir, uniqueId());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/run createRuntime hook ".*hook\.sh" \(config \.hooks\.createRuntime\[0\]\): exit status 3/);
      expect(stateDirs(root)).toEqual([]);
      expect(snapshotHost()).toEqual(before);
    } finally {
      b.cleanup();
    }
  });

  it('a failing createContainer hook (inside the container namespaces) fails create', () => {
    const { b } = hookBundle((b, log) => (b.config.hooks = { createContainer: [hostHook(b, 'createContainer', log, 4)] }));
    try {
      const r = T('create', '--bundle', b.dir, uniqueId());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/run createContainer hook ".*hook\.sh" \(config \.hooks\.createContainer\[0\]\): exit status 4/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  it('a failing startContainer hook fails start, and the user process never runs', () => {
    const { b, entries } = hookBundle((b) => (b.config.hooks = { startContainer: [containerHook('startContainer', 5)] }));
    const id = uniqueId();
    try {
      expect(T('create', '--bundle', b.dir, id).code).toBe(0);
      const r = T('start', id);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/run startContainer hook "\/bin\/hook.sh" \(config \.hooks\.startContainer\[0\]\): exit status 5/);
      expect(entries().map((e) => e.kind)).toEqual(['startContainer']);
      expect(JSON.parse(T('state', id).stdout).status).toBe('stopped');
      expect(T('delete', id).code).toBe(0);
    } finally {
      T('delete', '--force', id);
      b.cleanup();
    }
  });

  it('a hook over its timeout is killed and named', () => {
    const b = makeBundle((c) => (c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }));
    try {
      const t0 = Date.now();
      const r = T('create', '--bundle', b.dir, uniqueId());
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(r.stderr).toMatch(/run createRuntime hook "\/bin\/sleep" \(config \.hooks\.createRuntime\[0\]\): .*timed out after 1s/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  it('a missing hook binary is named with ENOENT', () => {
    const b = makeBundle((c) => (c.hooks = { createContainer: [{ path: '/no/such/hook' }] }));
    try {
      const r = T('create', '--bundle', b.dir, uniqueId());
      expect(r.stderr).toMatch(/run createContainer hook "\/no\/such\/hook" \(config \.hooks\.createContainer\[0\]\): execve: ENOENT/);
    } finally {
      b.cleanup();
    }
  });

  it('a failing poststart hook is a warning: the remaining hooks run and the container keeps running', () => {
    const { b, entries } = hookBundle((b, log) => {
      b.config.process!.args = ['sleep', '1000'];
      b.config.hooks = { poststart: [hostHook(b, 'first', log, 1), hostHook(b, 'second', log)] };
    });
    const id = uniqueId();
    try {
      expect(T('create', '--bundle', b.dir, id).code).toBe(0);
      const r = T('start', id);
      expect(r.stderr).toMatch(/warning: run poststart hook ".*hook\.sh" \(config \.hooks\.poststart\[0\]\): exit status 1/);
      expect(r.code).toBe(0);
      expect(entries().map((e) => e.kind)).toEqual(['first', 'second']);
      expect(JSON.parse(T('state', id).stdout).status).toBe('running');
    } finally {
      T('delete', '--force', id);
      b.cleanup();
    }
  });

  it('failing poststop hooks are warnings: every one runs and delete succeeds', () => {
    const { b, entries } = hookBundle((b, log) => (b.config.hooks = { poststop: [hostHook(b, 'first', log, 1), hostHook(b, 'second', log)] }));
    const id = uniqueId();
    try {
      expect(T('run', '--bundle', b.dir, '-d', id).code).toBe(0);
      const r = T('delete', '--force', id);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: run poststop hook ".*hook\.sh" \(config \.hooks\.poststop\[0\]\): exit status 1/);
      expect(entries().map((e) => e.kind)).toEqual(['first', 'second']);
    } finally {
      b.cleanup();
    }
  });
});
