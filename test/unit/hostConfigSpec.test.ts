import { describe, expect, it } from 'vitest';
import { applyHostResources, checkHostResources, INIT_PATH, withDockerDefaults, type HostFacts } from '../../src/engine/hostConfigSpec.js';
import { capabilitiesOfMask } from '../../src/engine/hostFacts.js';
import { DEFAULT_CAPS, specFromImage } from '../../src/image/bundle/imageSpec.js';
import type { Spec } from '../../src/spec/types.js';

const host: HostFacts = { cpus: 2, capBounding: capabilitiesOfMask('1ffffffffff'), initBinary: '/usr/bin/tini-static', hostDevices: [{ path: '/dev/kvm', type: 'c', major: 10, minor: 232, fileMode: 0o660, uid: 0, gid: 0 }], arch: 'x64', kernel: '6.18.0' };
// The spec an image gives (user lookup needs no rootfs for numeric ids).
const base: Spec = specFromImage({ config: { Cmd: ['sh'] } } as never, '/nonexistent', { id: 'c1', imageName: 'busybox', user: '0:0' });

describe('HostConfig into the OCI config', () => {
  it('nothing asked: the image spec unchanged, /dev/shm at 64 MiB, and the input untouched', () => {
    const out = applyHostResources(base, {}, host);
    expect(out.linux?.resources).toEqual(base.linux?.resources);
    expect(out.process?.capabilities?.bounding).toEqual(DEFAULT_CAPS);
    expect(out.mounts?.find((m) => m.destination === '/dev/shm')?.options).toContain(`size=${64 * 1024 * 1024}`);
    expect(base.mounts?.find((m) => m.destination === '/dev/shm')?.options).not.toContain(`size=${64 * 1024 * 1024}`);
  });

  it('-m 64m --memory-swap 128m --memory-reservation 32m --oom-kill-disable --cpus 1.5 --cpu-shares 512 --cpuset-cpus 0 --pids-limit 50', () => {
    const out = applyHostResources(base, {
      Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, OomKillDisable: true,
      NanoCpus: 1.5e9, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50,
    }, host);
    expect(out.linux?.resources).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, disableOOMKiller: true },
      cpu: { shares: 512, period: 100000, quota: 150000, cpus: '0' },
      pids: { limit: 50 },
    });
  });

  it('--pids-limit 0 / -1 are unlimited; --cpu-quota and --cpu-period are taken as given', () => {
    expect(applyHostResources(base, { PidsLimit: -1 }, host).linux?.resources?.pids).toBeUndefined();
    expect(applyHostResources(base, { CpuQuota: 50000, CpuPeriod: 200000 }, host).linux?.resources?.cpu).toEqual({ quota: 50000, period: 200000 });
  });

  it("dockerd's refusals", () => {
    const refused = (h: Parameters<typeof checkHostResources>[0]) => { try { checkHostResources(h, host); return ''; } catch (e) { return (e as Error).message; } };
    expect(refused({ Memory: 1 << 20 })).toBe('Minimum memory limit allowed is 6MB');
    expect(refused({ MemorySwap: 1 << 30 })).toBe('You should always set the Memory limit when using Memoryswap limit, see usage');
    expect(refused({ Memory: 64 << 20, MemorySwap: 32 << 20 })).toBe('Minimum memoryswap limit should be larger than memory limit, see usage');
    expect(refused({ Memory: 64 << 20, MemoryReservation: 128 << 20 })).toBe('Minimum memory limit can not be less than memory reservation limit, see usage');
    expect(refused({ NanoCpus: 3e9 })).toBe('Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
    expect(refused({ NanoCpus: 1e9, CpuPeriod: 100000 })).toBe('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    expect(refused({ CapAdd: ['NET_FOO'] })).toBe('invalid CapAdd: unknown capability: "NET_FOO"');
    expect(refused({ Tmpfs: { 'relative': '' } })).toMatch(/the mount path must be absolute/);
    expect(refused({ Tmpfs: { '/x': 'size=1m,bogus' } })).toMatch(/unknown tmpfs option "bogus"/);
    expect(refused({ Ulimits: [{ Name: 'nofile', Soft: 20, Hard: 10 }] })).toBe('ulimit soft limit must be less than or equal to hard limit: 20 > 10');
    expect(refused({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] })).toBe('invalid ulimit type: bogus');
    expect(() => checkHostResources({ Init: true }, { ...host, initBinary: undefined })).toThrow(/no init binary found/);
    expect(refused({ Memory: 6 << 20, NanoCpus: 0.5e9, CapAdd: ['sys_admin'], CapDrop: ['CAP_CHOWN'] })).toBe('');
  });

  it('--cap-add / --cap-drop with and without CAP_, ALL either way', () => {
    const caps = (h: object) => applyHostResources(base, h, host).process?.capabilities;
    const c = caps({ CapAdd: ['sys_admin'], CapDrop: ['CAP_CHOWN', 'net_raw'] })!;
    expect(c.bounding).toEqual([...DEFAULT_CAPS.filter((x) => x !== 'CAP_CHOWN' && x !== 'CAP_NET_RAW'), 'CAP_SYS_ADMIN']);
    expect(c.effective).toEqual(c.bounding);
    expect(caps({ CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'] })!.bounding).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(caps({ CapAdd: ['ALL'] })!.bounding).toHaveLength(41);
    // Only what the daemon itself has: here without CAP_SYS_RESOURCE (24), as on a machine that dropped it.
    const without = applyHostResources(base, { CapAdd: ['ALL'] }, { ...host, capBounding: capabilitiesOfMask('1fffeffffff') }).process?.capabilities?.bounding;
    expect(without).toHaveLength(40);
    expect(without).not.toContain('CAP_SYS_RESOURCE');
    expect(capabilitiesOfMask('400')).toEqual(['CAP_NET_BIND_SERVICE']);
  });

  it('--privileged: every capability and host device, the device cgroup open, /sys rw, nothing masked', () => {
    const out = applyHostResources(base, { Privileged: true }, host);
    expect(out.process?.capabilities?.bounding).toHaveLength(41);
    expect(out.linux?.devices).toEqual(host.hostDevices);
    expect(out.linux?.resources?.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(out.linux?.maskedPaths).toEqual([]);
    expect(out.linux?.readonlyPaths).toEqual([]);
    expect(out.mounts?.find((m) => m.type === 'sysfs')?.options).not.toContain('ro');
  });

  it('--read-only, --tmpfs (Docker defaults first, /run replaced), --shm-size', () => {
    const out = applyHostResources(base, { ReadonlyRootfs: true, Tmpfs: { '/run': 'size=1m', '/cache': 'exec,mode=1777' }, ShmSize: 1 << 20 }, host);
    expect(out.root).toEqual({ path: 'rootfs', readonly: true });
    expect(out.mounts?.filter((m) => m.destination === '/run')).toEqual([{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'size=1m'] }]);
    expect(out.mounts?.find((m) => m.destination === '/cache')?.options).toEqual(['noexec', 'nosuid', 'nodev', 'exec', 'mode=1777']);
    expect(out.mounts?.find((m) => m.destination === '/dev/shm')?.options?.filter((o) => o.startsWith('size='))).toEqual([`size=${1 << 20}`]);
  });

  it('--init: the init bind-mounted read-only and put before the command', () => {
    const out = applyHostResources(base, { Init: true }, host);
    expect(out.process?.args).toEqual([INIT_PATH, '--', 'sh']);
    expect(out.mounts?.at(-1)).toEqual({ destination: INIT_PATH, type: 'bind', source: '/usr/bin/tini-static', options: ['rbind', 'ro'] });
  });

  it("dockerd's defaults: -m alone gets twice its size as memory+swap; -1 stays unlimited", () => {
    expect(withDockerDefaults({ Memory: 64 << 20 })).toEqual({ Memory: 64 << 20, MemorySwap: 128 << 20 });
    expect(withDockerDefaults({ Memory: 64 << 20, MemorySwap: -1 })).toEqual({ Memory: 64 << 20, MemorySwap: -1 });
    expect(withDockerDefaults({})).toEqual({});
  });

  it('--security-opt: seccomp=unconfined / a profile, no-new-privileges, systempaths=unconfined; the daemon profile by default, none when privileged', () => {
    const profile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] };
    const withDefault = { ...host, seccompProfile: profile };
    expect(applyHostResources(base, {}, withDefault).linux?.seccomp).toEqual({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
    expect(applyHostResources(base, { SecurityOpt: ['seccomp=unconfined'] }, withDefault).linux?.seccomp).toBeUndefined();
    expect(applyHostResources(base, { Privileged: true }, withDefault).linux?.seccomp).toBeUndefined();
    const own = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
    expect(applyHostResources(base, { SecurityOpt: [`seccomp=${own}`] }, withDefault).linux?.seccomp?.syscalls).toEqual([{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    const out = applyHostResources(base, { SecurityOpt: ['no-new-privileges', 'systempaths=unconfined', 'apparmor=unconfined', 'label=disable'] }, host);
    expect(out.process?.noNewPrivileges).toBe(true);
    expect(out.linux?.maskedPaths).toEqual([]);
    expect(() => checkHostResources({ SecurityOpt: ['bogus'] }, host)).toThrow('Invalid --security-opt: "bogus"');
    expect(() => checkHostResources({ SecurityOpt: ['seccomp={"defaultAction":1}'] }, host)).toThrow(/seccomp profile HostConfig.SecurityOpt: defaultAction: want an SCMP_ACT_\* action/);
  });

  it('--sysctl and --ulimit', () => {
    const out = applyHostResources(base, { Sysctls: { 'net.ipv4.ip_forward': '1' }, Ulimits: [{ Name: 'nofile', Soft: 512, Hard: 1024 }, { Name: 'nproc', Soft: 100, Hard: 100 }] }, host);
    expect(out.linux?.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(out.process?.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 100 }]);
  });
});
