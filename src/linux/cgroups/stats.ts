// Container stats in runc's `events --stats` shape, read from cgroupfs (v1 or
// v2), and the OOM-kill counter that `events` watches.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Stats {
  cpu: { usage: { total: number; percpu?: number[]; kernel: number; user: number }; throttling: { periods: number; throttledPeriods: number; throttledTime: number } };
  memory: { usage: { limit: number; usage: number; max: number; failcnt: number }; swap?: { limit: number; usage: number; max: number; failcnt: number }; raw: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: Array<{ major: number; minor: number; op: string; value: number }> };
}

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};
const num = (text: string): number => (text === '' || text === 'max' ? 0 : Number(text));
const kv = (text: string): Record<string, number> =>
  Object.fromEntries(text.split('\n').filter(Boolean).map((l) => {
    const [k, v] = l.split(/\s+/);
    return [k, Number(v)];
  }));

export function readStats(paths: Record<string, string>): Stats {
  return '' in paths ? v2Stats(paths['']) : v1Stats(paths);
}

function v1Stats(p: Record<string, string>): Stats {
  const cpuacct = p.cpuacct ?? p.cpu ?? '';
  const cpuStat = kv(read(join(p.cpu ?? '', 'cpu.stat')));
  const acct = kv(read(join(cpuacct, 'cpuacct.stat')));
  const tick = 10_000_000; // USER_HZ 100 -> ns
  const mem = p.memory ?? '';
  const blk = read(join(p.blkio ?? '', 'blkio.throttle.io_service_bytes_recursive'));
  return {
    cpu: {
      usage: {
        total: num(read(join(cpuacct, 'cpuacct.usage'))),
        percpu: read(join(cpuacct, 'cpuacct.usage_percpu')).split(/\s+/).filter(Boolean).map(Number),
        kernel: (acct.system ?? 0) * tick,
        user: (acct.user ?? 0) * tick,
      },
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTime: cpuStat.throttled_time ?? 0 },
    },
    memory: {
      usage: {
        limit: num(read(join(mem, 'memory.limit_in_bytes'))),
        usage: num(read(join(mem, 'memory.usage_in_bytes'))),
        max: num(read(join(mem, 'memory.max_usage_in_bytes'))),
        failcnt: num(read(join(mem, 'memory.failcnt'))),
      },
      swap: {
        limit: num(read(join(mem, 'memory.memsw.limit_in_bytes'))),
        usage: num(read(join(mem, 'memory.memsw.usage_in_bytes'))),
        max: num(read(join(mem, 'memory.memsw.max_usage_in_bytes'))),
        failcnt: num(read(join(mem, 'memory.memsw.failcnt'))),
      },
      raw: kv(read(join(mem, 'memory.stat'))),
    },
    pids: { current: num(read(join(p.pids ?? '', 'pids.current'))), limit: num(read(join(p.pids ?? '', 'pids.max'))) },
    blkio: { ioServiceBytesRecursive: blkioLines(blk) },
  };
}

function blkioLines(text: string) {
  return text.split('\n').map((l) => l.split(/\s+/)).filter((f) => f.length === 3 && f[0].includes(':'))
    .map(([dev, op, value]) => ({ major: Number(dev.split(':')[0]), minor: Number(dev.split(':')[1]), op, value: Number(value) }));
}

function v2Stats(dir: string): Stats {
  const cpu = kv(read(join(dir, 'cpu.stat')));
  const memStat = kv(read(join(dir, 'memory.stat')));
  const events = kv(read(join(dir, 'memory.events')));
  return {
    cpu: {
      usage: { total: (cpu.usage_usec ?? 0) * 1000, kernel: (cpu.system_usec ?? 0) * 1000, user: (cpu.user_usec ?? 0) * 1000 },
      throttling: { periods: cpu.nr_periods ?? 0, throttledPeriods: cpu.nr_throttled ?? 0, throttledTime: (cpu.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      usage: { limit: num(read(join(dir, 'memory.max'))), usage: num(read(join(dir, 'memory.current'))), max: num(read(join(dir, 'memory.peak'))), failcnt: events.max ?? 0 },
      swap: { limit: num(read(join(dir, 'memory.swap.max'))), usage: num(read(join(dir, 'memory.swap.current'))), max: 0, failcnt: 0 },
      raw: memStat,
    },
    pids: { current: num(read(join(dir, 'pids.current'))), limit: num(read(join(dir, 'pids.max'))) },
    blkio: { ioServiceBytesRecursive: [] },
  };
}

/** How many times the OOM killer acted in the container's cgroup so far. */
export function oomKillCount(paths: Record<string, string>): number {
  if ('' in paths) return kv(read(join(paths[''], 'memory.events'))).oom_kill ?? 0;
  const mem = paths.memory;
  if (!mem || !existsSync(join(mem, 'memory.oom_control'))) return 0;
  return kv(read(join(mem, 'memory.oom_control'))).oom_kill ?? 0;
}
