import { describe, expect, it } from 'vitest';
import { sharesToWeight, v1Writes, v2Writes, bpfDeviceRules } from '../../src/linux/cgroups/resourceFiles.js';

describe('resource files', () => {
  it('maps v1 limits to their files with the config field', () => {
    const writes = v1Writes({ memory: { limit: 1048576, swap: 2097152 }, cpu: { shares: 512, quota: 5000, period: 10000, cpus: '0' }, pids: { limit: 0 } });
    expect(writes.map((w) => `${w.controller}/${w.file}=${w.value}`)).toEqual([
      'memory/memory.limit_in_bytes=1048576', 'memory/memory.memsw.limit_in_bytes=2097152',
      'cpu/cpu.shares=512', 'cpu/cpu.cfs_period_us=10000', 'cpu/cpu.cfs_quota_us=5000', 'cpuset/cpuset.cpus=0', 'pids/pids.max=max',
    ]);
    expect(writes[0].pointer).toBe('/linux/resources/memory/limit');
  });
  it('adds the default device allow rules after the configured ones', () => {
    const w = v1Writes({ devices: [{ allow: false, access: 'rwm' }] }, [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]);
    expect(w[0]).toMatchObject({ file: 'devices.deny', value: 'a *:* rwm' });
    expect(w.map((x) => x.value)).toContain('c 1:3 rwm');
    expect(w[w.length - 1]).toMatchObject({ file: 'devices.allow', value: 'c 10:229 rwm', pointer: '/linux/devices/0' });
  });
  it('maps v2 limits, with runc\'s conversions', () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
    const w = v2Writes({ memory: { limit: 100, swap: 300 }, cpu: { quota: -1, period: 100000 }, unified: { 'memory.high': '90' } });
    expect(w.map((x) => `${x.file}=${x.value}`)).toEqual(['memory.max=100', 'memory.swap.max=200', 'cpu.max=max 100000', 'memory.high=90']);
  });
  it('turns device rules into the eBPF program\'s numbers', () => {
    const rules = bpfDeviceRules({ devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: null, access: 'rw' }] }, []);
    expect(rules[0]).toEqual({ allow: false, type: 0, major: -1, minor: -1, access: 7 });
    expect(rules[1]).toEqual({ allow: true, type: 1, major: 8, minor: -1, access: 6 });
  });
});

describe('zero means "not set" (what dockerd sends on update)', () => {
  it('skips zero limits and keeps -1 as unlimited', () => {
    const res = { memory: { limit: 0, reservation: 0, swap: 0, kernel: 0 }, cpu: { shares: 0, quota: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: '', mems: '' }, blockIO: { weight: 0 } };
    expect(v1Writes(res)).toEqual([]);
    expect(v2Writes(res)).toEqual([]);
    expect(v1Writes({ memory: { limit: -1 } })[0].value).toBe('-1');
    expect(v2Writes({ memory: { limit: -1 } })[0].value).toBe('max');
  });
});
