import { describe, expect, it } from 'vitest';
import { resolveCgroupPath, systemdPath } from '../../src/linux/cgroups/manager.js';

describe('cgroupsPath', () => {
  it('keeps absolute paths, puts relative ones and the default under /tsrun', () => {
    expect(resolveCgroupPath('/default/c1', 'c1')).toBe('/default/c1');
    expect(resolveCgroupPath('pods/c1', 'c1')).toBe('/tsrun/pods/c1');
    expect(resolveCgroupPath(undefined, 'c1')).toBe('/tsrun/c1');
    expect(() => resolveCgroupPath('/a/../../etc', 'c1')).toThrow(/must not contain/);
  });
  it('expands systemd slice:prefix:name like systemd does', () => {
    expect(systemdPath('machine.slice', 'libpod', 'abc')).toBe('/machine.slice/libpod-abc.scope');
    expect(systemdPath('machine-a-b.slice', 'libpod', 'abc')).toBe('/machine.slice/machine-a.slice/machine-a-b.slice/libpod-abc.scope');
    expect(systemdPath('', 'docker', 'x')).toBe('/system.slice/docker-x.scope');
    expect(resolveCgroupPath('system.slice:docker:abc', 'abc')).toBe('/system.slice/docker-abc.scope');
    expect(resolveCgroupPath(undefined, 'c1', true)).toBe('/system.slice/tsrun-c1.scope');
  });
});
