// The cgroup v2 manager on a pure v2 host. This machine (and CI) is hybrid, so
// the suite skips with that reason here; it runs on the device machine (pure
// cgroup v2) — see docs/testing.md for the command.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { stateDirs } from '../helpers/leftovers.js';
import { makeRoot, tsrunSync, uniqueId } from '../helpers/tsrun.js';

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
const root = makeRoot();
const T = (...args: string[]) => tsrunSync(['--root', root, ...args]);
const bundles: Bundle[] = [];
const cg = (id: string, file: string) => readFileSync(join('/sys/fs/cgroup/tsrun', id, file), 'utf8').trim();

afterEach(() => {
  for (const id of stateDirs(root)) T('delete', '--force', id);
  while (bundles.length) bundles.pop()!.cleanup();
});
afterAll(() => expect(stateDirs(root)).toEqual([]));

describe.skipIf(!V2)('cgroup v2 (skipped: this host mounts cgroup v1/hybrid at /sys/fs/cgroup)', () => {
  it('creates the container\'s cgroup with its limits, shows it inside, and removes it on delete', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sleep', '1000'];
      c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 }, cpu: { quota: 50000, period: 100000, shares: 1024 } };
    });
    bundles.push(b);
    const id = uniqueId('v2');
    const r = T('run', '-d', '--bundle', b.dir, id);
    expect(r.stderr).toBe('');
    expect(cg(id, 'memory.max')).toBe(String(64 * 1024 * 1024));
    expect(cg(id, 'pids.max')).toBe('20');
    expect(cg(id, 'cpu.max')).toBe('50000 100000');
    expect(cg(id, 'cpu.weight')).toBe('39');
    const pid = JSON.parse(T('state', id).stdout).pid;
    expect(cg(id, 'cgroup.procs').split('\n')).toContain(String(pid));
    // Inside: the cgroup namespace and the bind of its own cgroup.
    const inside = T('exec', id, 'sh', '-c', 'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max');
    expect(inside.stdout).toBe(`0::/\n${64 * 1024 * 1024}\n`);
    expect(T('delete', '--force', id).code).toBe(0);
    expect(existsSync(join('/sys/fs/cgroup/tsrun', id))).toBe(false);
  });
  it('pause/resume through cgroup.freeze, and update of live limits', () => {
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    bundles.push(b);
    const id = uniqueId('v2');
    expect(T('run', '-d', '--bundle', b.dir, id).code).toBe(0);
    expect(T('pause', id).code).toBe(0);
    expect(JSON.parse(T('state', id).stdout).status).toBe('paused');
    expect(cg(id, 'cgroup.events')).toMatch(/frozen 1/);
    expect(T('resume', id).code).toBe(0);
    expect(JSON.parse(T('state', id).stdout).status).toBe('running');
    expect(T('update', '--memory', '32M', '--pids-limit', '7', '--cpu-quota', '20000', id).code).toBe(0);
    expect(cg(id, 'memory.max')).toBe(String(32 * 1024 * 1024));
    expect(cg(id, 'pids.max')).toBe('7');
    expect(cg(id, 'cpu.max')).toBe('20000 100000');
  });
  it('a memory hog is OOM-killed under memory.max', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'head -c 100000000 /dev/zero | tr "\\0" a | sh -c "echo 1000 > /proc/self/oom_score_adj; exec sort" > /dev/null; echo rc=$?'];
      c.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    });
    bundles.push(b);
    expect(T('run', '--bundle', b.dir, uniqueId('v2')).stdout).toBe('rc=137\n');
  });
  it('enforces linux.resources.devices with the eBPF program', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'mknod /dev/kmsg2 c 1 11 && (cat /dev/kmsg2 > /dev/null) 2>&1; echo x > /dev/null && echo null-ok'];
      for (const set of ['bounding', 'effective', 'permitted'] as const) c.process!.capabilities![set]!.push('CAP_MKNOD');
    });
    bundles.push(b);
    const r = T('run', '--bundle', b.dir, uniqueId('v2'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("cat: can't open '/dev/kmsg2': Operation not permitted\nnull-ok\n");
  });
  it('sets unified keys', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sleep', '1000'];
      c.linux!.resources = { unified: { 'memory.high': '50000000' } };
    });
    bundles.push(b);
    const id = uniqueId('v2');
    expect(T('run', '-d', '--bundle', b.dir, id).stderr).toBe('');
    expect(cg(id, 'memory.high')).toBe('49999872'); // rounded down to pages by the kernel
  });
});
