// exec, pause/resume, ps, update and cgroup limits proven by their effect.
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Spec } from '../../src/spec/types.js';

let root: string;
let before: HostSnapshot;
const bundles: Bundle[] = [];
const T = (...args: string[]) => tsrunSync(['--root', root, ...args]);
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

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

/** A running container (sleep) whose config `edit` adjusted. */
function running(edit: (c: Spec) => void = () => {}, args = ['sleep', '1000']): { id: string; pid: number; b: Bundle } {
  const b = makeBundle((c) => {
    c.process!.args = args;
    edit(c);
  });
  bundles.push(b);
  const id = uniqueId();
  const r = T('run', '-d', '--bundle', b.dir, id);
  if (r.code !== 0) throw new Error(r.stderr);
  return { id, pid: JSON.parse(T('state', id).stdout).pid, b };
}

describe('exec', () => {
  it('joins every namespace of the container and returns the exit code', () => {
    const { id, pid } = running();
    const r = T('exec', id, 'sh', '-c', 'for n in pid net mnt ipc uts cgroup; do readlink /proc/self/ns/$n; done; exit 7');
    expect(r.code).toBe(7);
    const expected = ['pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`));
    expect(r.stdout.trim().split('\n')).toEqual(expected);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`/tsrun/${id}`);
  });
  it('takes env, cwd, user and extra groups, and sees the container\'s processes', () => {
    const { id } = running();
    const r = T('exec', '--env', 'A=1', '-e', 'PATH=/bin', '--cwd', '/tmp', '--user', '1000:1000', '-g', '10', id, 'sh', '-c', 'echo $A $PATH; pwd; id -u; id -G; ps -o pid,comm | grep -c sleep');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1 /bin\n/tmp\n1000\n1000 10\n1\n');
  });
  it('runs a process from --process, detached, with --pid-file', () => {
    const { id, b } = running();
    const file = join(b.dir, 'process.json');
    writeFileSync(file, JSON.stringify({ args: ['sleep', '500'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
    const pidFile = join(b.dir, 'exec.pid');
    expect(T('exec', '--process', file, '--detach', '--pid-file', pidFile, id).code).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000500\u0000');
    expect(JSON.parse(T('ps', '--format', 'json', id).stdout)).toContain(pid);
  });
  it('applies the container\'s seccomp filter and capabilities to the exec\'d process', () => {
    const { id } = running((c) => (c.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] }));
    const r = T('exec', id, 'sh', '-c', 'mkdir /tmp/x 2>&1; grep -E "^(CapBnd|Seccomp):" /proc/self/status');
    expect(r.stdout).toMatch(/Function not implemented\nCapBnd:\s+0000000020000420\nSeccomp:\s+2\n/);
  });
  it('fails clearly for a missing executable, a stopped container, and a process file with errors', () => {
    const { id, b } = running();
    expect(T('exec', id, 'nope').stderr).toMatch(/find the executable "nope" \(config \.process\.args\[0\]\): execve: ENOENT/);
    const bad = join(b.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ args: 'sh', cwd: '/', user: { uid: 0, gid: 0 } }));
    expect(T('exec', '-p', bad, id).stderr).toMatch(/\.process\.args: must be of type array/);
    T('kill', id, 'KILL');
    for (let i = 0; i < 100 && !T('state', id).stdout.includes('stopped'); i++) sleepMs(10);
    expect(T('exec', id, 'true').stderr).toMatch(/cannot exec in a stopped container/);
  });
});

describe('pause / resume', () => {
  it('freezes every process (no progress), shows paused, and thaws', () => {
    const { id, b } = running((c) => c.mounts!.push({ destination: '/out', type: 'bind', source: '.', options: ['rbind'] }), ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /out/counter.new; mv /out/counter.new /out/counter; sleep 0.02; done']);
    sleepMs(200);
    expect(T('pause', id).code).toBe(0);
    expect(JSON.parse(T('state', id).stdout).status).toBe('paused');
    const frozenAt = readFileSync(join(b.dir, 'counter'), 'utf8');
    sleepMs(300);
    expect(readFileSync(join(b.dir, 'counter'), 'utf8')).toBe(frozenAt);
    expect(T('pause', id).stderr).toMatch(/cannot pause a container that is paused/);
    expect(T('resume', id).code).toBe(0);
    expect(JSON.parse(T('state', id).stdout).status).toBe('running');
    sleepMs(300);
    expect(Number(readFileSync(join(b.dir, 'counter'), 'utf8'))).toBeGreaterThan(Number(frozenAt));
    expect(T('resume', id).stderr).toMatch(/cannot resume a container that is running/);
  });
  it('kill --all SIGKILL stops a paused container', () => {
    const { id } = running();
    T('exec', '-d', id, 'sleep', '300');
    expect(T('pause', id).code).toBe(0);
    expect(T('kill', '--all', id, 'KILL').code).toBe(0);
    for (let i = 0; i < 200 && !T('state', id).stdout.includes('stopped'); i++) sleepMs(10);
    expect(JSON.parse(T('state', id).stdout).status).toBe('stopped');
  });
});

describe('ps', () => {
  it('lists the host pids of every process, as JSON and as ps lines', () => {
    const { id, pid } = running();
    T('exec', '-d', id, 'sleep', '301');
    const pids = JSON.parse(T('ps', '--format', 'json', id).stdout);
    expect(pids).toContain(pid);
    expect(pids.length).toBe(2);
    const table = T('ps', id).stdout.split('\n');
    expect(table[0]).toMatch(/PID/);
    expect(table.filter((l) => /sleep 30?1/.test(l) || /sleep 1000/.test(l)).length).toBe(2);
  });
});

describe('cgroup limits (v1 on this host)', () => {
  it('a memory hog is OOM-killed under memory.limit', () => {
    const b = makeBundle((c) => {
      // The hog asks to be the OOM killer's victim: without it the kernel once took the shell (a CI run printed nothing).
      c.process!.args = ['sh', '-c', 'head -c 100000000 /dev/zero | tr "\\0" a | sh -c "echo 1000 > /proc/self/oom_score_adj; exec sort" > /dev/null; echo rc=$?'];
      c.linux!.resources = { ...c.linux!.resources, memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    });
    bundles.push(b);
    const r = T('run', '--bundle', b.dir, uniqueId());
    expect(r.stdout).toBe('rc=137\n');
  });
  it('a fork loop stops at pids.limit', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'for i in $(seq 1 30); do sleep 5 & done 2>/dev/null; ps -o pid | wc -l'];
      c.linux!.resources = { ...c.linux!.resources, pids: { limit: 10 } };
    });
    bundles.push(b);
    const r = T('run', '--bundle', b.dir, uniqueId());
    expect(Number(r.stdout.trim())).toBeLessThanOrEqual(11); // header + at most 10 processes
  });
  it('a device not allowed by the device rules cannot be opened', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'mknod /dev/kmsg2 c 1 11 && (cat /dev/kmsg2 > /dev/null) 2>&1; echo x > /dev/null && echo null-ok'];
      c.process!.capabilities!.bounding!.push('CAP_MKNOD');
      c.process!.capabilities!.effective!.push('CAP_MKNOD');
      c.process!.capabilities!.permitted!.push('CAP_MKNOD');
    });
    bundles.push(b);
    const r = T('run', '--bundle', b.dir, uniqueId());
    expect(r.stdout).toBe("cat: can't open '/dev/kmsg2': Operation not permitted\nnull-ok\n");
  });
  it('a cpu quota throttles (cpu.stat)', () => {
    const { id } = running((c) => (c.linux!.resources = { ...c.linux!.resources, cpu: { quota: 10000, period: 100000 } }), ['sh', '-c', 'while true; do :; done']);
    sleepMs(800);
    const stat = T('exec', id, 'cat', '/sys/fs/cgroup/cpu/cpu.stat').stdout;
    expect(Number(/nr_throttled (\d+)/.exec(stat)![1])).toBeGreaterThan(0);
  });
  it.skipIf(!existsSync('/sys/fs/cgroup/blkio') || existsSync('/sys/fs/cgroup/blkio/blkio.weight'))('a knob this kernel lacks (blkio.weight without CFQ/BFQ) is named as unsupported, not as EACCES', () => {
    const b = makeBundle((c) => (c.linux!.resources = { ...c.linux!.resources, blockIO: { weight: 500 } }));
    bundles.push(b);
    const r = T('run', '--bundle', b.dir, uniqueId());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/blkio\.weight" \(config \.linux\.resources\.blockIO\.weight\): open: ENOENT: this kernel does not support blkio\.weight here \(it needs the CFQ or BFQ I\/O scheduler/);
    expect(r.stderr).not.toMatch(/EACCES/);
  });
  it('update changes live limits, from flags and from --resources', () => {
    const { id, b } = running((c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * 1024 * 1024 } }));
    const read = () => T('exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us').stdout.split('\n');
    expect(read()[0]).toBe(String(64 * 1024 * 1024));
    expect(T('update', '--memory', '128M', '--pids-limit', '50', id).code).toBe(0);
    const file = join(b.dir, 'res.json');
    writeFileSync(file, JSON.stringify({ cpu: { quota: 20000, period: 100000 } }));
    expect(T('update', `--resources=${file}`, id).code).toBe(0);
    expect(read().slice(0, 3)).toEqual([String(128 * 1024 * 1024), '50', '20000']);
    writeFileSync(file, JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }));
    expect(T('update', '--resources', file, id).stderr).toMatch(/new memory limit 4096 is below the current usage \d+ \(checkBeforeUpdate\)/);
    expect(read()[0]).toBe(String(128 * 1024 * 1024));
    writeFileSync(file, JSON.stringify({ memory: { limit: 'lots' } }));
    expect(T('update', '--resources', file, id).stderr).toMatch(/\.linux\.resources\.memory\.limit: must be of type integer/);
  });
});

describe('events', () => {
  it('--stats prints one stats event with cpu, memory and pids', () => {
    const { id } = running((c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 50 } }));
    const r = T('events', '--stats', id);
    const ev = JSON.parse(r.stdout);
    expect(ev).toMatchObject({ type: 'stats', id });
    expect(ev.data.memory.usage.limit).toBe(64 * 1024 * 1024);
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(ev.data.pids).toEqual({ current: 1, limit: 50 });
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
  });
  it('streams an oom event when the OOM killer acts in the container', async () => {
    const { id } = running((c) => (c.linux!.resources = { ...c.linux!.resources, memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } }));
    const { tsrunAsync } = await import('../helpers/tsrun.js');
    const events = tsrunAsync(['--root', root, 'events', '--interval', '1s', id]);
    sleepMs(500);
    T('exec', id, 'sh', '-c', 'head -c 100000000 /dev/zero | tr "\\0" a | sort > /dev/null');
    sleepMs(300);
    T('kill', id, 'KILL');
    const out = (await events).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(out.some((e) => e.type === 'oom' && e.id === id)).toBe(true);
    expect(out.some((e) => e.type === 'stats')).toBe(true);
  });
});

describe('flags that used to be accepted and silently ignored', () => {
  it('run --keep leaves the stopped container for delete', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'exit 3']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'run', '--keep', '--bundle', b.dir, id]).code).toBe(3);
      expect(JSON.parse(tsrunSync(['--root', root, 'state', id]).stdout).status).toBe('stopped');
      expect(tsrunSync(['--root', root, 'delete', id]).code).toBe(0);
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });
  it('exec --apparmor, --process-label and --cgroup say what they cannot do here; --ignore-paused refuses instead of hanging', () => {
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'run', '-d', '--bundle', b.dir, id]).code).toBe(0);
      const r = tsrunSync(['--root', root, 'exec', '--process-label', 'system_u:system_r:container_t:s0', '--cgroup', 'sub', id, 'true']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: process\.selinuxLabel is ignored: SELinux is not enabled on this host/);
      expect(r.stderr).toMatch(/warning: --cgroup is not supported/);
      if (!existsSync('/sys/module/apparmor/parameters/enabled') || readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() !== 'Y')
        expect(tsrunSync(['--root', root, 'exec', '--apparmor', 'unconfined', id, 'true']).stderr).toMatch(/process\.apparmorProfile is ignored: AppArmor is not enabled/);
      expect(tsrunSync(['--root', root, 'pause', id]).code).toBe(0);
      const p = tsrunSync(['--root', root, 'exec', '--ignore-paused', id, 'true'], { timeout: 10_000 });
      expect(p.code).toBe(1);
      expect(p.stderr).toMatch(/--ignore-paused: a process started in a paused container is frozen before it runs; resume the container first/);
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });
});
