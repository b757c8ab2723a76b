import { describe, expect, it } from 'vitest';
import { dockerStats, systemCpuUsage, writeStats, zeroStats, ZERO_READ, type DockerStats } from '../../src/engine/stats.js';

const ctx = { id: 'abc', name: '/web', read: '2026-01-01T00:00:01.000Z', systemCpu: 5e12, onlineCpus: 4, hostMemory: 8 * 2 ** 30 };

/** runc 1.1 on cgroup v1 (types.Stats, zero fields omitted). */
const runcV1 = {
  cpu: { usage: { total: 1500, percpu: [1000, 500], kernel: 10_000_000, user: 20_000_000 }, throttling: { periods: 3, throttledPeriods: 1, throttledTime: 77 } },
  memory: { usage: { limit: 9223372036854771712, usage: 4096, max: 8192, failcnt: 0 }, swap: { limit: 0, failcnt: 0 }, raw: { total_rss: 1024, total_inactive_file: 512, cache: 7 } },
  pids: { current: 2 },
  blkio: { ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }] },
};

/** tsrun on cgroup v2 (no percpu, "max" read as 0). */
const tsrunV2 = {
  cpu: { usage: { total: 3000, kernel: 1000, user: 2000 }, throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 } },
  memory: { usage: { limit: 0, usage: 2048, max: 0, failcnt: 0 }, raw: { anon: 100, inactive_file: 50, file: 9 } },
  pids: { current: 1, limit: 100 },
  blkio: { ioServiceBytesRecursive: [] },
};

describe('docker stats documents', () => {
  it('maps runc\'s v1 document to dockerd\'s names; no limit is the host\'s memory', () => {
    const s = dockerStats(runcV1, ctx);
    expect(s.cpu_stats).toEqual({
      cpu_usage: { total_usage: 1500, percpu_usage: [1000, 500], usage_in_kernelmode: 10_000_000, usage_in_usermode: 20_000_000 },
      system_cpu_usage: 5e12, online_cpus: 4, throttling_data: { periods: 3, throttled_periods: 1, throttled_time: 77 },
    });
    expect(s.memory_stats.usage).toBe(4096);
    expect(s.memory_stats.max_usage).toBe(8192);
    expect(s.memory_stats.limit).toBe(ctx.hostMemory);
    expect(s.memory_stats.stats).toMatchObject({ total_rss: 1024, total_inactive_file: 512, cache: 7, rss: 0 });
    expect(Object.keys(s.memory_stats.stats!)).toHaveLength(32);
    expect(s.pids_stats).toEqual({ current: 2 });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 8, minor: 0, op: 'Read', value: 4096 }]);
    expect(s.blkio_stats.sectors_recursive).toEqual([]);
    expect(s).toMatchObject({ read: ctx.read, preread: ZERO_READ, name: '/web', id: 'abc', num_procs: 0 });
    expect(s).not.toHaveProperty('networks');
  });

  it('maps a v2 document with v2 names, a set limit kept, pids limit shown', () => {
    const s = dockerStats({ ...tsrunV2, memory: { ...tsrunV2.memory, usage: { ...tsrunV2.memory.usage, limit: 2 ** 30 } } }, ctx);
    expect(s.cpu_stats.cpu_usage).toEqual({ total_usage: 3000, usage_in_kernelmode: 1000, usage_in_usermode: 2000 });
    expect(s.memory_stats).not.toHaveProperty('max_usage');
    expect(s.memory_stats.limit).toBe(2 ** 30);
    expect(s.memory_stats.stats).toMatchObject({ anon: 100, inactive_file: 50, file: 9 });
    expect(s.memory_stats.stats).not.toHaveProperty('total_rss');
    expect(s.pids_stats).toEqual({ current: 1, limit: 100 });
  });

  it('takes nothing but non-negative numbers from the runtime', () => {
    const s = dockerStats({ cpu: { usage: { total: '5', percpu: [1, -2, 'x'] } }, memory: null, pids: [], blkio: { ioServiceBytesRecursive: 'no' } }, ctx);
    expect(s.cpu_stats.cpu_usage).toEqual({ total_usage: 0, percpu_usage: [1, 0, 0], usage_in_kernelmode: 0, usage_in_usermode: 0 });
    expect(s.memory_stats.usage).toBe(0);
    expect(s.pids_stats).toEqual({ current: 0 });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([]);
  });

  it('a zeroed document as dockerd sends for a container that does not run', () => {
    const z = zeroStats('abc', '/web');
    expect(z).toMatchObject({ read: ZERO_READ, preread: ZERO_READ, pids_stats: {}, memory_stats: {}, num_procs: 0, name: '/web', id: 'abc' });
    expect(z.cpu_stats.cpu_usage.total_usage).toBe(0);
    expect(z.blkio_stats.io_service_bytes_recursive).toBeNull();
  });

  it('the host\'s CPU time from /proc/stat, in ns, growing', async () => {
    const a = await systemCpuUsage();
    await new Promise((r) => setTimeout(r, 50));
    expect(a).toBeGreaterThan(0);
    expect(await systemCpuUsage()).toBeGreaterThanOrEqual(a);
  });
});

describe('the stats loop', () => {
  const source = (running: () => boolean) => {
    let n = 0;
    return {
      samples: () => n,
      src: { id: 'abc', name: () => '/web', running, sample: async () => ({ ...runcV1, cpu: { usage: { total: 1000 * ++n } } }) },
    };
  };

  it('stream=false: two samples a second apart, the second sent with the first as precpu; one-shot: one; not running: one zeroed', async () => {
    const out: DockerStats[] = [];
    const a = source(() => true);
    await writeStats(a.src, { stream: false, oneShot: false }, (d) => out.push(d), () => false);
    expect(a.samples()).toBe(2);
    expect(out).toHaveLength(1);
    expect(out[0].precpu_stats.cpu_usage.total_usage).toBe(1000);
    expect(out[0].cpu_stats.cpu_usage.total_usage).toBe(2000);
    expect(Date.parse(out[0].read) - Date.parse(out[0].preread)).toBeGreaterThanOrEqual(990);
    const b = source(() => true);
    const shot: DockerStats[] = [];
    await writeStats(b.src, { stream: false, oneShot: true }, (d) => shot.push(d), () => false);
    expect(b.samples()).toBe(1);
    expect(shot[0].preread).toBe(ZERO_READ);
    const c = source(() => false);
    const none: DockerStats[] = [];
    await writeStats(c.src, { stream: false, oneShot: false }, (d) => none.push(d), () => false);
    expect(c.samples()).toBe(0);
    expect(none).toEqual([zeroStats('abc', '/web')]);
  });

  it('a stream: a document a second until the container stops, then a zeroed one; a runtime failure while it stops is the stop', async () => {
    let runs = true;
    const out: DockerStats[] = [];
    const s = source(() => runs);
    const src = { ...s.src, sample: async () => {
      if (s.samples() === 2) {
        runs = false;
        throw new Error('container not running');
      }
      return s.src.sample();
    } };
    await writeStats(src, { stream: true, oneShot: false }, (d) => out.push(d), () => false);
    expect(out.map((d) => d.cpu_stats.cpu_usage.total_usage)).toEqual([1000, 2000, 0]);
    expect(out[1].precpu_stats.cpu_usage.total_usage).toBe(1000);
    expect(out[2].read).toBe(ZERO_READ);
  });

  it('a stream ends when the client has gone, with nothing more written', async () => {
    let gone = false;
    const out: DockerStats[] = [];
    await writeStats(source(() => true).src, { stream: true, oneShot: false }, (d) => {
      out.push(d);
      gone = true;
    }, () => gone);
    expect(out).toHaveLength(1);
  });

  it('a runtime failure of a running container is the caller\'s error', async () => {
    const src = { id: 'abc', name: () => '/web', running: () => true, sample: async () => { throw new Error('boom'); } };
    await expect(writeStats(src, { stream: false, oneShot: true }, () => {}, () => false)).rejects.toThrow('boom');
  });
});
