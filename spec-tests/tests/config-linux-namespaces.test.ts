// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp,
// rootfsPropagation, maskedPaths, readonlyPaths, time namespace, personality.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, CGROUP_V2, hostNs, newId, probe, rt, runExpectFailure } from '../lib/runtime.js';

describe('config-linux.md#namespaces', () => {
  it('[MUST] each listed namespace without a path is new; unlisted ones are the runtime\'s', () => {
    const p = probe();
    for (const n of ['pid', 'net', 'mnt', 'ipc', 'uts']) expect(p.ns[n], n).not.toBe(hostNs(n));
    expect(p.ns.user).toBe(hostNs('user'));
    expect(p.pid).toBe(1);
  });
  it('[MUST] a namespace with a path is joined', () => {
    const a = bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = newId();
    try {
      expect(rt(['run', '-d', '--bundle', a.dir, id]).code).toBe(0);
      const pid = JSON.parse(rt(['state', id]).stdout).pid;
      const p = probe((c) => (c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n))));
      expect(p.ns.net).toBe(readlinkSync(`/proc/${pid}/ns/net`));
    } finally {
      rt(['delete', '--force', id]);
      a.cleanup();
    }
  });
  it('[MUST] a mount namespace with a path is joined, and the container is built in it', () => {
    // Another process's private mount namespace (runc and crun create the container in it).
    const holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      const path = `/proc/${holder.pid}/ns/mnt`;
      const end = Date.now() + 5000;
      while (readlinkSync(path) === hostNs('mnt') && Date.now() < end) spawnSync('sleep', ['0.02']);
      const p = probe((c) => (c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'mount' ? { type: 'mount', path } : n))));
      expect(p.ns.mnt).toBe(readlinkSync(path));
    } finally {
      holder.kill('SIGKILL');
    }
  });
  it('[MUST] a duplicated namespace type is an error', () => {
    expect(runExpectFailure((c) => c.linux.namespaces.push({ type: 'pid' })).code).not.toBe(0);
  });
});

