// HostConfig's resources and security options through the real docker CLI:
// the cgroup files the runtime wrote, what the process sees (capabilities,
// read-only root, tmpfs, /dev/shm, init, sysctl, ulimit), dockerd's refusals
// with nothing left behind, and an OOM kill reported as Docker reports it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, leftovers, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
const RUNTIME = process.env.TSD_TEST_RUNTIME;
const IMAGE = 'busybox';
const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

beforeAll(async () => {
  t = await startTsd(RUNTIME ? ['--runtime', RUNTIME] : []);
  expect((await t.docker(['pull', IMAGE])).code).toBe(0);
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

/** A cgroup file of a running container of this tsd (parent /tsd). */
function cgroupFile(id: string, v1: [string, string], v2: string): string {
  const path = V2 ? `/sys/fs/cgroup/tsd/${id}/${v2}` : `/sys/fs/cgroup/${v1[0]}/tsd/${id}/${v1[1]}`;
  return readFileSync(path, 'utf8').trim();
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await t.docker(['run', '--rm', ...args]);
  return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe(`docker run's resources and security options${RUNTIME ? ` over ${RUNTIME}` : ''}`, () => {
  it('-m --cpus --cpu-shares --pids-limit reach the cgroup; inspect shows them as dockerd does', async () => {
    const r = await t.docker(['run', '-d', '--name', 'limits', '-m', '64m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '50', IMAGE, 'sleep', '1000']);
    expect(r.stderr).toBe('');
    const id = r.stdout.trim();
    try {
      expect(cgroupFile(id, ['memory', 'memory.limit_in_bytes'], 'memory.max')).toBe(String(64 << 20));
      if (!V2) expect(cgroupFile(id, ['memory', 'memory.memsw.limit_in_bytes'], 'memory.swap.max')).toBe(String(128 << 20));
      expect(V2 ? cgroupFile(id, ['', ''], 'cpu.max') : cgroupFile(id, ['cpu', 'cpu.cfs_quota_us'], '')).toBe(V2 ? '50000 100000' : '50000');
      if (!V2) expect(cgroupFile(id, ['cpu', 'cpu.shares'], '')).toBe('512');
      expect(cgroupFile(id, ['pids', 'pids.max'], 'pids.max')).toBe('50');
      const i = await t.docker(['inspect', 'limits', '--format', '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}}']);
      expect(i.stdout.trim()).toBe(`${64 << 20} ${128 << 20} 500000000 512 50`);
      // docker stats reads the limit back from the cgroup.
      const st = await t.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'limits']);
      expect(st.stdout.trim()).toMatch(/ \/ 64MiB$/);
    } finally {
      await t.docker(['rm', '-f', 'limits']);
    }
  });

  it('--cap-drop ALL --cap-add NET_BIND_SERVICE, --cap-add sys_admin, and --privileged', async () => {
    const caps = (r: { out: string }) => /CapBnd:\s*([0-9a-f]+)/.exec(r.out)?.[1];
    expect(caps(await run(['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE', IMAGE, 'cat', '/proc/self/status']))).toBe('0000000000000400');
    const admin = BigInt(`0x${caps(await run(['--cap-add', 'sys_admin', IMAGE, 'cat', '/proc/self/status']))}`);
    expect(admin & (1n << 21n)).toBe(1n << 21n);
    // Every capability tsd itself has (its bounding set is this test's: both run as root here).
    const bounding = /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    const priv = await run(['--privileged', IMAGE, 'sh', '-c', 'grep CapEff /proc/self/status; ls /dev; grep " /sys " /proc/mounts']);
    expect(priv.err).toBe('');
    expect(priv.out).toContain(`CapEff:\t${bounding}`);
    // A host device (loop-control exists wherever loop devices do) and a writable /sys.
    if (existsSync('/dev/loop-control')) expect(priv.out.split('\n')).toContain('loop-control');
    expect(priv.out).toMatch(/ \/sys sysfs rw,/);
    const plain = await run([IMAGE, 'ls', '/dev']);
    expect(plain.out.split('\n')).not.toContain('loop-control');
  });

  it('--read-only with --tmpfs (size enforced) and --shm-size', async () => {
    const ro = await run(['--read-only', IMAGE, 'touch', '/x']);
    expect(ro.code).toBe(1);
    expect(ro.err).toMatch(/Read-only file system/);
    const tmp = await run(['--read-only', '--tmpfs', '/scratch:size=1m', IMAGE, 'sh', '-c', 'echo ok > /scratch/a && cat /scratch/a && dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1; grep " /scratch " /proc/mounts']);
    expect(tmp.out).toMatch(/^ok$/m);
    expect(tmp.out).toMatch(/No space left on device/);
    expect(tmp.out).toMatch(/ \/scratch tmpfs rw,nosuid,nodev,noexec,.*size=1024k/);
    const shm = await run(['--shm-size', '2m', IMAGE, 'sh', '-c', 'grep " /dev/shm " /proc/mounts']);
    expect(shm.out).toMatch(/size=2048k/);
  });

  it('--init runs the init as pid 1 with the command under it; --sysctl; --ulimit', async () => {
    const init = await run(['--init', IMAGE, 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline; echo; echo $$']);
    expect(init.err).toBe('');
    expect(init.out.split('\n')[0]).toMatch(/^\/sbin\/docker-init -- sh -c/);
    expect(Number(init.out.split('\n')[1])).toBeGreaterThan(1);
    expect((await run(['--sysctl', 'net.ipv4.ip_forward=1', IMAGE, 'cat', '/proc/sys/net/ipv4/ip_forward'])).out).toBe('1');
    expect((await run(['--ulimit', 'nofile=512:1024', IMAGE, 'sh', '-c', 'ulimit -n; ulimit -Hn'])).out).toBe('512\n1024');
  });

  it.skipIf(!existsSync('/usr/share/containers/seccomp.json'))('seccomp: the default profile, unconfined, privileged, a profile of the request; no-new-privileges', async () => {
    const mode = async (flags: string[]) => /Seccomp:\s*(\d)/.exec((await run([...flags, IMAGE, 'cat', '/proc/self/status'])).out)?.[1];
    expect(await mode([])).toBe('2');
    expect(await mode(['--security-opt', 'seccomp=unconfined'])).toBe('0');
    expect(await mode(['--privileged'])).toBe('0');
    const profile = join(t.dir, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
    const denied = await run(['--security-opt', `seccomp=${profile}`, IMAGE, 'mkdir', '/made']);
    expect(denied.code).toBe(1);
    expect(denied.err).toMatch(/Operation not permitted/);
    expect((await run(['--security-opt', 'no-new-privileges', IMAGE, 'grep', 'NoNewPrivs', '/proc/self/status'])).out).toMatch(/NoNewPrivs:\s*1/);
  });

  it("dockerd's refusals (400, exit 125), and nothing is left", async () => {
    const cases: [string[], RegExp][] = [
      [['-m', '1m'], /Minimum memory limit allowed is 6MB/],
      [['--cpus', '64'], /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/],
      [['--cap-add', 'NOT_A_CAP'], /invalid CapAdd: unknown capability: "(CAP_)?NOT_A_CAP"/],
      [['--memory-reservation', '128m', '-m', '64m'], /Minimum memory limit can not be less than memory reservation limit/],
      [['--tmpfs', '/x:bogus=1'], /unknown tmpfs option "bogus=1"/],
      [['--security-opt', 'bogus=1'], /Invalid --security-opt: "bogus=1"/],
    ];
    for (const [flags, message] of cases) {
      const r = await t.docker(['run', '--rm', '--name', 'refused', ...flags, IMAGE, 'true']);
      expect(r.code, flags.join(' ')).toBe(125);
      expect(r.stderr).toMatch(message);
    }
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
    expect(leftovers(t)).toEqual([]);
  });

  it('a container over its memory limit is OOM-killed: exit 137, OOMKilled, the oom and die events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const r = await t.docker(['run', '--name', 'oom', '-m', '8m', '--memory-swap', '8m', IMAGE, 'sh', '-c', 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo survived']);
    expect(r.code).toBe(137);
    expect(r.stdout).not.toMatch(/survived/);
    const i = await t.docker(['inspect', 'oom', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}}']);
    expect(i.stdout.trim()).toBe('true 137');
    const ev = await t.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=oom', '--format', '{{.Action}}']);
    expect(ev.stdout.split('\n')).toEqual(expect.arrayContaining(['oom', 'die']));
    await t.docker(['rm', 'oom']);
  });
});
