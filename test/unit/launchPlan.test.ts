import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLaunchPlan, type LaunchContext } from '../../src/linux/launchPlan.js';
import { CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUSER, MS } from '../../src/linux/constants.js';
import { PLAN_OPS } from '../../src/linux/generated/protocol.js';
import { defaultSpec } from '../../src/spec/defaultSpec.js';
import type { Spec } from '../../src/spec/types.js';

const bundle = mkdtempSync(join(tmpdir(), 'plan-'));
mkdirSync(join(bundle, 'rootfs'));

function plan(edit: (s: Spec) => void = () => {}, context: Partial<LaunchContext> = {}) {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  edit(spec);
  return buildLaunchPlan({ spec, bundle, stateDir: '/run/x', preserveFds: 0, console: false, noPivot: false, capLastCap: 40, ...context });
}
const ops = (p: ReturnType<typeof plan>) => p.steps.map((s) => s.op);

describe('launch plan', () => {
  it('clones every new namespace at once and runs the init steps in the spec\'s order', () => {
    const p = plan();
    const clone = p.steps.find((s) => s.op === 'clone')!;
    const flags = Number(clone.args[0]);
    expect(flags & CLONE_NEWPID).toBeTruthy();
    expect(flags & CLONE_NEWNS).toBeTruthy();
    expect(flags & CLONE_NEWNET).toBeTruthy();
    expect(flags & CLONE_NEWUSER).toBe(0);
    const o = ops(p);
    const order = ['exec-fifo', 'clone', 'wait-go', 'procfs', 'hostname', 'propagation', 'bind-self', 'rootfs', 'mount', 'mknod', 'pivot-root', 'readonly', 'mask', 'remount-root-ro', 'setsid', 'rlimit', 'umask', 'chdir', 'nnp', 'bounding', 'user', 'caps', 'resolve-exec', 'close-fds', 'ready', 'fifo-wait', 'exec'];
    const idx = order.map((op) => o.indexOf(op));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
  });
  it('joins namespaces given by path before cloning, user first and mount last', () => {
    const p = plan((s) => {
      s.linux!.namespaces = [{ type: 'mount', path: '/proc/1/ns/mnt' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'pid' }];
    });
    const joins = p.steps.filter((s) => s.op === 'setns').map((s) => s.args[0]);
    expect(joins).toEqual(['/proc/1/ns/user', '/proc/1/ns/net', '/proc/1/ns/mnt']);
    expect(p.steps.find((s) => s.op === 'setns')!.pointer).toBe('/linux/namespaces/2/path');
    expect(Number(p.steps.find((s) => s.op === 'clone')!.args[0])).toBe(CLONE_NEWPID);
  });
  it('becomes root in a new user namespace and binds devices instead of mknod', () => {
    const p = plan((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(ops(p)).toContain('become-root');
    expect(ops(p)).not.toContain('mknod');
    expect(ops(p)).toContain('bind-dev');
    expect(p.userns?.uidMappings[0].hostID).toBe(100000);
  });
  it('maps capabilities to masks, skipping ambient ones that are not inheritable (like runc)', () => {
    const p = plan();
    const caps = p.steps.find((s) => s.op === 'caps')!.args.map((a) => BigInt(a as string));
    const expected = (1n << 29n) | (1n << 5n) | (1n << 10n); // AUDIT_WRITE, KILL, NET_BIND_SERVICE
    expect(BigInt(p.steps.find((s) => s.op === 'bounding')!.args[0] as string)).toBe(expected);
    expect(caps[0]).toBe(expected);
    expect(caps[1]).toBe(expected);
    expect(caps[3]).toBe(0n);
    // The bounding set is dropped while still root: before the user switch.
    expect(ops(p).indexOf('bounding')).toBeLessThan(ops(p).indexOf('user'));
  });
  it('names the config field of an unknown capability or rlimit', () => {
    expect(() => plan((s) => s.process!.capabilities!.bounding!.push('CAP_NOPE'))).toThrow(/config \.process\.capabilities\.bounding\[3\]\).*unknown capability "CAP_NOPE"/);
    expect(() => plan((s) => s.process!.rlimits!.push({ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }))).toThrow(/\.process\.rlimits\[1\]\.type/);
  });
  it('refuses symlinks on the way to /proc and /sys mounts, and remounts read-only binds', () => {
    const p = plan((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: bundle, options: ['ro'] }));
    const arg = (step: (typeof p.steps)[number], name: string) => step.args[PLAN_OPS.mount.args.indexOf(name as never)];
    const proc = p.steps.find((s) => s.op === 'mount' && arg(s, 'destination') === '/proc')!;
    expect(arg(proc, 'no_symlinks')).toBe('1');
    const data = p.steps.find((s) => s.op === 'mount' && arg(s, 'destination') === '/data')!;
    expect(Number(arg(data, 'flags'))).toBe(MS.BIND);
    expect(Number(arg(data, 'remount_flags'))).toBe(MS.BIND | MS.REMOUNT | MS.RDONLY);
  });
  it('mounts a cgroup with every argument the mount step declares', () => {
    const p = plan(undefined, {
      cgroupMountSources: [{ name: 'memory', hostPath: '/sys/fs/cgroup/memory/c' }, { name: 'pids', hostPath: '/sys/fs/cgroup/pids/c' }],
    });
    const cgroup = p.steps.filter((s) => s.op === 'mount' && String(s.args[1]).startsWith('/sys/fs/cgroup'));
    expect(cgroup.map((s) => s.args[1])).toEqual(['/sys/fs/cgroup', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup']);
    for (const s of cgroup) expect(s.args).toHaveLength(PLAN_OPS.mount.arity);
    expect(cgroup[1].args.slice(-3)).toEqual(['0', '-1', '0']);
  });
  it('needs a console for a terminal and names the field', () => {
    expect(() => plan((s) => (s.process!.terminal = true))).toThrow(/\(config \.process\.terminal\)/);
  });
  it('fails on a missing rootfs with the path and pointer', () => {
    expect(() => plan((s) => (s.root!.path = 'nothere'))).toThrow(/find the rootfs ".*nothere" \(config \.root\.path\): stat: ENOENT: no such file or directory/);
  });
});
