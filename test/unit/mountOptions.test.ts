import { describe, expect, it } from 'vitest';
import { bindRemountFlags, parseMountOptions } from '../../src/linux/mountOptions.js';
import { MS } from '../../src/linux/constants.js';

describe('mount options', () => {
  it('splits kernel flags, propagation and filesystem data', () => {
    const p = parseMountOptions('tmpfs', ['nosuid', 'strictatime', 'mode=755', 'size=65536k', 'rshared']);
    expect(p.flags).toBe(MS.NOSUID | MS.STRICTATIME);
    expect(p.propagation).toBe(MS.SHARED | MS.REC);
    expect(p.data).toEqual(['mode=755', 'size=65536k']);
  });
  it('lets a later option clear an earlier one', () => {
    expect(parseMountOptions('tmpfs', ['ro', 'rw']).flags & MS.RDONLY).toBe(0);
  });
  it('recognises bind mounts by type or option, and the remount they need', () => {
    expect(parseMountOptions('bind', []).isBind).toBe(true);
    const p = parseMountOptions('none', ['rbind', 'ro', 'nosuid']);
    expect(p.flags & (MS.BIND | MS.REC)).toBe(MS.BIND | MS.REC);
    expect(bindRemountFlags(p.flags)).toBe(MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID);
    expect(bindRemountFlags(MS.BIND)).toBe(0);
  });
});
