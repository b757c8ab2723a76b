// The container's mount namespace: joined by path, missing, and shared with the host
// (rootfsPropagation rshared, as Kubernetes' Bidirectional volumes need).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
let before: HostSnapshot;
const bundles: Bundle[] = [];
const T = (...args: string[]) => tsrunSync(['--root', root, ...args]);

beforeAll(() => {
  root = makeRoot();
  before = snapshotHost();
});
afterEach(() => {
  for (const id of stateDirs(root)) T('delete', '--force', id);
  while (bundles.length) bundles.pop()!.cleanup();
});
afterAll(() => {
  expect(stateDirs(root)).toEqual([]);
  expect(snapshotHost()).toEqual(before);
});

function bundle(edit: Parameters<typeof makeBundle>[0]): Bundle {
  const b = makeBundle(edit);
  bundles.push(b);
  return b;
}

describe('mount namespace', () => {
  it('joins a mount namespace given by path and builds the container in it', async () => {
    const holder: ChildProcess = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      const nsPath = `/proc/${holder.pid}/ns/mnt`;
      for (let i = 0; i < 100 && readLink(nsPath) === readLink('/proc/self/ns/mnt'); i++) await new Promise((r) => setTimeout(r, 20));
      const b = bundle((c) => {
        c.process!.args = ['readlink', '/proc/self/ns/mnt'];
        c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: nsPath } : n));
      });
      const r = T('run', '--bundle', b.dir, uniqueId());
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(readLink(nsPath));
      expect(r.code).toBe(0);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('refuses a config without a mount namespace before touching anything', () => {
    const b = bundle((c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
    });
    const id = uniqueId();
    const r = T('run', '--bundle', b.dir, id);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\.linux\.namespaces: needs a mount namespace \(type "mount", new or joined by path\)/);
    expect(stateDirs(root)).not.toContain(id);
    expect(snapshotHost().mounts).toEqual(before.mounts);
  });

  it('rootfsPropagation rshared: a mount made in the container under a bind volume reaches the host', () => {
    const vol = mkdtempSync(join(tmpdir(), 'tsrun-shared-vol-'));
    spawnSync('mount', ['-t', 'tmpfs', 'tsrun-shared-vol', vol]);
    spawnSync('mount', ['--make-shared', vol]);
    try {
      const b = bundle((c) => {
        c.linux!.rootfsPropagation = 'rshared';
        c.mounts!.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind'] });
        for (const set of ['bounding', 'effective', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_SYS_ADMIN');
        c.process!.args = ['sh', '-c', 'mkdir /vol/in && mount -t tmpfs from-container /vol/in && echo hi > /vol/in/file && echo done'];
      });
      const r = T('run', '--bundle', b.dir, uniqueId());
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('done\n');
      // The container is gone; its mount stays on the host, in the volume's peer group.
      expect(readFileSync(join(vol, 'in/file'), 'utf8')).toBe('hi\n');
      // Nothing of the container's own rootfs building (proc, dev, ...) reached the host.
      expect(snapshotHost().mounts.filter((m) => !m.includes(vol))).toEqual(before.mounts);
    } finally {
      spawnSync('umount', [join(vol, 'in')]);
      spawnSync('umount', [vol]);
      rmSync(vol, { recursive: true, force: true });
    }
  });
});

function readLink(p: string): string {
  return existsSync(p) ? spawnSync('readlink', [p], { encoding: 'utf8' }).stdout : '';
}
