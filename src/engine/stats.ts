// `docker stats`: a container's cgroup numbers as dockerd 20.10 sends them
// (API 1.41 StatsJSON), taken through the runtime binary (`<runtime> events
// --stats <id>`, runc's types.Stats shape for runc and tsrun alike), never
// from the cgroup files directly, so the engine stays runtime-agnostic.
// A stream is one document a second while the container runs; the CPU
// percentage a client shows comes from two documents (precpu_stats is the
// previous sample), so a single answer takes two samples unless one-shot.
import { readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';

/** Go's zero time, as Docker sends it for a sample that was never taken. */
export const ZERO_READ = '0001-01-01T00:00:00Z';

/** Between two samples of a stream (dockerd's collector interval). */
export const STATS_INTERVAL_MS = 1000;

/** USER_HZ: the unit of /proc/stat (100 on every Linux ABI in use). */
const TICKS = 100;

export interface StatsQuery {
  /** One document a second until the client goes or the container stops (Docker's default). */
  stream: boolean;
  /** With stream=false: the first sample alone, its precpu_stats zero (no second sample). */
  oneShot: boolean;
}

/** What the loop needs of a container: kept abstract so it can be tested without one. */
export interface StatsSource {
  id: string;
  /** With the leading `/`, read at each document (a rename shows). */
  name(): string;
  running(): boolean;
  /** The runtime's stats document (untrusted JSON). */
  sample(): Promise<unknown>;
}

interface CpuStats {
  cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface DockerStats {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: Record<string, BlkioEntry[] | null>;
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; max_usage?: number; stats?: Record<string, number>; failcnt?: number; limit?: number };
  name: string;
  id: string;
}

/** memory.stat keys dockerd reports on cgroup v1 (daemon_unix.go statsV1), all of them, 0 when absent. */
const V1_MEMORY_KEYS = ['cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit', 'hierarchical_memsw_limit',
  'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty', 'total_writeback', 'total_pgpgin', 'total_pgpgout',
  'total_pgfault', 'total_pgmajfault', 'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable'];

/** The same on cgroup v2 (statsV2). */
const V2_MEMORY_KEYS = ['anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable', 'pgfault',
  'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal', 'pgactivate',
  'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc'];

/** runc's blkio lists (types.Blkio) → Docker's names. */
const BLKIO_KEYS: Array<[string, string]> = [
  ['ioServiceBytesRecursive', 'io_service_bytes_recursive'], ['ioServicedRecursive', 'io_serviced_recursive'],
  ['ioQueueRecursive', 'io_queue_recursive'], ['ioServiceTimeRecursive', 'io_service_time_recursive'],
  ['ioWaitTimeRecursive', 'io_wait_time_recursive'], ['ioMergedRecursive', 'io_merged_recursive'],
  ['ioTimeRecursive', 'io_time_recursive'], ['sectorsRecursive', 'sectors_recursive'],
];

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});
/** A non-negative finite number, else 0 (runc omits zero fields). */
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

const zeroCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
});

/** What dockerd sends for a container that does not run: every number zero, name and id set. */
export function zeroStats(id: string, name: string): DockerStats {
  return {
    read: ZERO_READ, preread: ZERO_READ, pids_stats: {},
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map(([, k]) => [k, null])),
    num_procs: 0, storage_stats: {}, cpu_stats: zeroCpu(), precpu_stats: zeroCpu(), memory_stats: {}, name, id,
  };
}

/** The host's CPU time in ns: the first line of /proc/stat (user..softirq), as dockerd's getSystemCPUUsage. */
export async function systemCpuUsage(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0];
  const f = line.split(/\s+/);
  if (f[0] !== 'cpu') return 0;
  const ticks = f.slice(1, 8).reduce((a, v) => a + (Number(v) || 0), 0);
  return (ticks * 1e9) / TICKS;
}

export interface SampleContext {
  id: string;
  name: string;
  /** When the sample was taken (RFC 3339). */
  read: string;
  systemCpu: number;
  onlineCpus: number;
  /** The host's memory: the limit shown when the container has none (dockerd's machineMemory). */
  hostMemory: number;
}

/** One runtime stats document → Docker's StatsJSON (precpu_stats and preread zero: the caller sets them). */
export function dockerStats(data: unknown, c: SampleContext): DockerStats {
  const d = obj(data);
  const cpu = obj(d.cpu), usage = obj(cpu.usage), thr = obj(cpu.throttling);
  const percpu = Array.isArray(usage.percpu) ? usage.percpu.map(num) : [];
  const cpuStats: CpuStats = {
    cpu_usage: { total_usage: num(usage.total), ...(percpu.length ? { percpu_usage: percpu } : {}), usage_in_kernelmode: num(usage.kernel), usage_in_usermode: num(usage.user) },
    system_cpu_usage: c.systemCpu,
    online_cpus: c.onlineCpus,
    throttling_data: { periods: num(thr.periods), throttled_periods: num(thr.throttledPeriods), throttled_time: num(thr.throttledTime) },
  };
  const mem = obj(d.memory), memUsage = obj(mem.usage), raw = obj(mem.raw);
  // Which hierarchy the runtime read: v1's memory.stat has total_* keys, v2's has anon.
  const v1 = 'total_rss' in raw || 'total_cache' in raw || !('anon' in raw);
  const keys = v1 ? V1_MEMORY_KEYS : V2_MEMORY_KEYS;
  // No limit reads as 0 (tsrun's "max"), as 2^63-4096 (v1) or 2^64-1 (runc on v2): the host's memory then.
  const limit = num(memUsage.limit);
  const memoryStats: DockerStats['memory_stats'] = {
    usage: num(memUsage.usage),
    ...(v1 ? { max_usage: num(memUsage.max) } : {}),
    stats: Object.fromEntries(keys.map((k) => [k, num(raw[k])])),
    ...(v1 && num(memUsage.failcnt) ? { failcnt: num(memUsage.failcnt) } : {}),
    limit: limit === 0 || limit > c.hostMemory ? c.hostMemory : limit,
  };
  const pids = obj(d.pids);
  const blkio = obj(d.blkio);
  const entries = (v: unknown): BlkioEntry[] => (Array.isArray(v) ? v : []).map((e) => {
    const o = obj(e);
    return { major: num(o.major), minor: num(o.minor), op: typeof o.op === 'string' ? o.op : '', value: num(o.value) };
  });
  return {
    read: c.read,
    preread: ZERO_READ,
    pids_stats: { current: num(pids.current), ...(num(pids.limit) ? { limit: num(pids.limit) } : {}) },
    blkio_stats: Object.fromEntries(BLKIO_KEYS.map(([from, to]) => [to, entries(blkio[from])])),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats,
    precpu_stats: zeroCpu(),
    memory_stats: memoryStats,
    name: c.name,
    id: c.id,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes what dockerd writes for GET /containers/{id}/stats: a container that
 * does not run gets one zeroed document; stream=false two samples a second
 * apart and the second sent (one-shot: the first); a stream a document a
 * second until `gone()` or the container stops, ended by a zeroed document.
 * Nothing here blocks: each sample is a child process and a file read.
 */
export async function writeStats(src: StatsSource, q: StatsQuery, write: (doc: DockerStats) => void, gone: () => boolean): Promise<void> {
  let previous: DockerStats | undefined;
  /** The next document, or undefined when the container no longer runs. */
  const take = async (): Promise<DockerStats | undefined> => {
    if (!src.running()) return undefined;
    let data: unknown;
    try {
      data = await src.sample();
    } catch (e) {
      if (!src.running()) return undefined; // it stopped while we asked
      throw e;
    }
    const doc = dockerStats(data, { id: src.id, name: src.name(), read: new Date().toISOString(), systemCpu: await systemCpuUsage(), onlineCpus: availableParallelism(), hostMemory: totalmem() });
    if (previous) {
      doc.precpu_stats = previous.cpu_stats;
      doc.preread = previous.read;
    }
    previous = doc;
    return doc;
  };
  const zero = () => zeroStats(src.id, src.name());
  if (!q.stream) {
    let doc = await take();
    if (doc && !q.oneShot) {
      await sleep(STATS_INTERVAL_MS);
      doc = await take();
    }
    write(doc ?? zero());
    return;
  }
  while (!gone()) {
    const began = Date.now();
    const doc = await take();
    if (gone()) return;
    if (!doc) {
      write(zero());
      return;
    }
    write(doc);
    await sleep(Math.max(0, STATS_INTERVAL_MS - (Date.now() - began)));
  }
}
