// linux.resources -> the cgroup files to write, as plain data (unit-tested):
// v1 as [controller, file, value], v2 as [file, value]. Each write names the
// config field it comes from, for errors.
import type { DeviceCgroupRule, Device, Resources } from '../../spec/types.js';

export interface CgroupWrite {
  /** v1 controller directory name (memory, cpu, ...); '' on v2. */
  controller: string;
  file: string;
  value: string;
  pointer: string;
}

const R = '/linux/resources';
const w = (controller: string, file: string, value: string | number | bigint, pointer: string): CgroupWrite => ({ controller, file, value: String(value), pointer });

/** Devices every container may use, as runc allows them (besides those in linux.devices). */
export const DEFAULT_ALLOWED_DEVICES: DeviceCgroupRule[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // console
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // pts
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

export function deviceRuleText(r: DeviceCgroupRule): string {
  const n = (x: number | null | undefined) => (x === undefined || x === null || x < 0 ? '*' : String(x));
  return `${r.type ?? 'a'} ${n(r.major)}:${n(r.minor)} ${r.access || 'rwm'}`;
}

/** The full ordered device rule list: configured rules, then the defaults and the configured devices. */
export function deviceRules(res: Resources | undefined, devices: Device[] | undefined): Array<{ rule: DeviceCgroupRule; pointer: string }> {
  const out = (res?.devices ?? []).map((rule, i) => ({ rule, pointer: `${R}/devices/${i}` }));
  if (!res?.devices) return out;
  for (const rule of DEFAULT_ALLOWED_DEVICES) out.push({ rule, pointer: `${R}/devices` });
  (devices ?? []).forEach((d, i) => {
    if (d.type === 'c' || d.type === 'b' || d.type === 'u')
      out.push({ rule: { allow: true, type: d.type === 'b' ? 'b' : 'c', major: d.major, minor: d.minor, access: 'rwm' }, pointer: `/linux/devices/${i}` });
  });
  return out;
}

/**
 * Like runc, a 0 in a limit means "not set" (dockerd sends every field on
 * `docker update`, with 0 for the ones the user did not give); -1 means unlimited.
 */
export function v1Writes(res: Resources | undefined, devices?: Device[]): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  if (!res) return out;
  const m = res.memory;
  if (m) {
    if (m.useHierarchy !== undefined) out.push(w('memory', 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, `${R}/memory/useHierarchy`));
    // With swap set, the combined limit must be raised before a smaller memory limit fits, and vice versa: callers write in order.
    if (m.limit) out.push(w('memory', 'memory.limit_in_bytes', m.limit, `${R}/memory/limit`));
    if (m.swap) out.push(w('memory', 'memory.memsw.limit_in_bytes', m.swap, `${R}/memory/swap`));
    if (m.reservation) out.push(w('memory', 'memory.soft_limit_in_bytes', m.reservation, `${R}/memory/reservation`));
    if (m.kernel) out.push(w('memory', 'memory.kmem.limit_in_bytes', m.kernel, `${R}/memory/kernel`));
    if (m.kernelTCP) out.push(w('memory', 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, `${R}/memory/kernelTCP`));
    if (m.swappiness !== undefined) out.push(w('memory', 'memory.swappiness', m.swappiness, `${R}/memory/swappiness`));
    if (m.disableOOMKiller !== undefined) out.push(w('memory', 'memory.oom_control', m.disableOOMKiller ? 1 : 0, `${R}/memory/disableOOMKiller`));
  }
  const c = res.cpu;
  if (c) {
    if (c.shares) out.push(w('cpu', 'cpu.shares', c.shares, `${R}/cpu/shares`));
    if (c.period) out.push(w('cpu', 'cpu.cfs_period_us', c.period, `${R}/cpu/period`));
    if (c.quota) out.push(w('cpu', 'cpu.cfs_quota_us', c.quota, `${R}/cpu/quota`));
    if (c.burst !== undefined) out.push(w('cpu', 'cpu.cfs_burst_us', c.burst, `${R}/cpu/burst`));
    if (c.realtimePeriod) out.push(w('cpu', 'cpu.rt_period_us', c.realtimePeriod, `${R}/cpu/realtimePeriod`));
    if (c.realtimeRuntime) out.push(w('cpu', 'cpu.rt_runtime_us', c.realtimeRuntime, `${R}/cpu/realtimeRuntime`));
    if (c.idle !== undefined) out.push(w('cpu', 'cpu.idle', c.idle, `${R}/cpu/idle`));
    if (c.cpus) out.push(w('cpuset', 'cpuset.cpus', c.cpus, `${R}/cpu/cpus`));
    if (c.mems) out.push(w('cpuset', 'cpuset.mems', c.mems, `${R}/cpu/mems`));
  }
  if (res.pids) out.push(w('pids', 'pids.max', res.pids.limit <= 0 ? 'max' : res.pids.limit, `${R}/pids/limit`));
  const b = res.blockIO;
  if (b) {
    // Engines (dockerd) send weight 0 for "not set", as runc treats it.
    if (b.weight) out.push(w('blkio', 'blkio.weight', b.weight, `${R}/blockIO/weight`));
    if (b.leafWeight) out.push(w('blkio', 'blkio.leaf_weight', b.leafWeight, `${R}/blockIO/leafWeight`));
    (b.weightDevice ?? []).forEach((d, i) => {
      if (d.weight !== undefined) out.push(w('blkio', 'blkio.weight_device', `${d.major}:${d.minor} ${d.weight}`, `${R}/blockIO/weightDevice/${i}`));
      if (d.leafWeight !== undefined) out.push(w('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${R}/blockIO/weightDevice/${i}`));
    });
    const throttles = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'], ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'], ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ] as const;
    for (const [key, file] of throttles)
      (b[key] ?? []).forEach((d, i) => out.push(w('blkio', file, `${d.major}:${d.minor} ${d.rate}`, `${R}/blockIO/${key}/${i}`)));
  }
  (res.hugepageLimits ?? []).forEach((h, i) => out.push(w('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit, `${R}/hugepageLimits/${i}`)));
  if (res.network?.classID !== undefined) out.push(w('net_cls', 'net_cls.classid', res.network.classID, `${R}/network/classID`));
  (res.network?.priorities ?? []).forEach((p, i) => out.push(w('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${R}/network/priorities/${i}`)));
  for (const { rule, pointer } of deviceRules(res, devices))
    out.push(w('devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(rule), pointer));
  for (const [name, l] of Object.entries(res.rdma ?? {})) {
    const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
    if (parts.length) out.push(w('rdma', 'rdma.max', `${name} ${parts.join(' ')}`, `${R}/rdma/${name}`));
  }
  return out;
}

/** cgroup v2 has cpu.weight in [1, 10000]; runc's integer conversion from v1 shares in [2, 262144]. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** Device rules as the v2 eBPF program takes them (type 0 any / 1 block / 2 char; -1 any number; access bits m=1 r=2 w=4). */
export function bpfDeviceRules(res: Resources | undefined, devices: Device[] | undefined) {
  return deviceRules(res, devices).map(({ rule }) => ({
    allow: rule.allow,
    type: rule.type === 'b' ? 1 : rule.type === 'c' ? 2 : 0,
    major: rule.major === undefined || rule.major === null || rule.major < 0 ? -1 : rule.major,
    minor: rule.minor === undefined || rule.minor === null || rule.minor < 0 ? -1 : rule.minor,
    access: [...(rule.access || 'rwm')].reduce((a, ch) => a | (ch === 'm' ? 1 : ch === 'r' ? 2 : ch === 'w' ? 4 : 0), 0),
  }));
}

export function v2Writes(res: Resources | undefined): CgroupWrite[] {
  const out: CgroupWrite[] = [];
  if (!res) return out;
  const v = (x: number) => (x < 0 ? 'max' : String(x));
  const m = res.memory;
  if (m) {
    if (m.limit) out.push(w('', 'memory.max', v(m.limit), `${R}/memory/limit`));
    // v1's swap is memory+swap; v2's swap.max is swap alone.
    if (m.swap) out.push(w('', 'memory.swap.max', m.swap < 0 ? 'max' : String(Math.max(0, m.swap - (m.limit ?? 0))), `${R}/memory/swap`));
    if (m.reservation) out.push(w('', 'memory.low', v(m.reservation), `${R}/memory/reservation`));
  }
  const c = res.cpu;
  if (c) {
    if (c.shares) out.push(w('', 'cpu.weight', sharesToWeight(c.shares), `${R}/cpu/shares`));
    if (c.quota || c.period)
      out.push(w('', 'cpu.max', `${c.quota === undefined || c.quota < 0 ? 'max' : c.quota} ${c.period ?? 100000}`, `${R}/cpu/quota`));
    if (c.burst !== undefined) out.push(w('', 'cpu.max.burst', c.burst, `${R}/cpu/burst`));
    if (c.idle !== undefined) out.push(w('', 'cpu.idle', c.idle, `${R}/cpu/idle`));
    if (c.cpus) out.push(w('', 'cpuset.cpus', c.cpus, `${R}/cpu/cpus`));
    if (c.mems) out.push(w('', 'cpuset.mems', c.mems, `${R}/cpu/mems`));
  }
  if (res.pids) out.push(w('', 'pids.max', res.pids.limit <= 0 ? 'max' : res.pids.limit, `${R}/pids/limit`));
  const b = res.blockIO;
  if (b) {
    // io.bfq.weight / io.weight take 1..10000; v1 blkio weights are 10..1000.
    if (b.weight) out.push(w('', 'io.weight', `default ${Math.round(1 + ((b.weight - 10) * 9999) / 990)}`, `${R}/blockIO/weight`));
    const throttles = [['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'], ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops']] as const;
    for (const [key, name] of throttles)
      (b[key] ?? []).forEach((d, i) => out.push(w('', 'io.max', `${d.major}:${d.minor} ${name}=${d.rate}`, `${R}/blockIO/${key}/${i}`)));
  }
  (res.hugepageLimits ?? []).forEach((h, i) => out.push(w('', `hugetlb.${h.pageSize}.max`, h.limit, `${R}/hugepageLimits/${i}`)));
  for (const [name, l] of Object.entries(res.rdma ?? {})) {
    const parts = [l.hcaHandles !== undefined ? `hca_handle=${l.hcaHandles}` : '', l.hcaObjects !== undefined ? `hca_object=${l.hcaObjects}` : ''].filter(Boolean);
    if (parts.length) out.push(w('', 'rdma.max', `${name} ${parts.join(' ')}`, `${R}/rdma/${name}`));
  }
  for (const [file, value] of Object.entries(res.unified ?? {})) out.push(w('', file, value, `${R}/unified/${file}`));
  return out;
}
