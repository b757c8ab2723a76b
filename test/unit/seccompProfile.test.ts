import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEngineProfile, profileToOci } from '../../src/engine/seccompProfile.js';

const profile = parseEngineProfile(JSON.stringify({
  defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
  archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], comment: '', includes: {}, excludes: {} },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['clone3'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.3' } },
    { names: ['oldcall'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '4.0' } },
  ],
}), 'test');

describe('engine seccomp profiles into OCI', () => {
  it('rules are chosen by capability, architecture and kernel; architectures from archMap', () => {
    const s = profileToOci(profile, { caps: ['CAP_CHOWN'], arch: 'x64', kernel: '6.18.0-1-amd64' });
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(s.defaultErrnoRet).toBe(38);
    expect(s.syscalls).toEqual([
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone3'], action: 'SCMP_ACT_ALLOW' },
    ]);
    const admin = profileToOci(profile, { caps: ['CAP_SYS_ADMIN'], arch: 'arm64', kernel: '5.2.0' });
    expect(admin.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(admin.syscalls.map((r) => `${r.names[0]} ${r.action}`)).toEqual(['read SCMP_ACT_ALLOW', 'mount SCMP_ACT_ALLOW', 'personality SCMP_ACT_ALLOW']);
  });

  it('a profile of the wrong shape is refused naming the field', () => {
    const refused = (doc: unknown) => { try { parseEngineProfile(JSON.stringify(doc), 'p.json'); return ''; } catch (e) { return (e as Error).message; } };
    expect(refused({ syscalls: [] })).toBe('read the seccomp profile p.json: defaultAction: want an SCMP_ACT_* action');
    expect(refused({ defaultAction: 'SCMP_ACT_ERRNO' })).toBe('read the seccomp profile p.json: syscalls: want an array');
    expect(refused({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: 'read', action: 'SCMP_ACT_ALLOW' }] })).toMatch(/syscalls\[0\].names: want an array of strings/);
    expect(refused({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'ALLOW' }] })).toMatch(/syscalls\[0\].action/);
    expect(refused({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 'x' }] }] })).toMatch(/syscalls\[0\].args\[0\]/);
    expect(refused({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: 'CAP_X' } }] })).toMatch(/syscalls\[0\].includes.caps/);
    expect(() => parseEngineProfile('{', 'p.json')).toThrow(/\(document\): invalid JSON/);
  });

  it.skipIf(!existsSync('/usr/share/containers/seccomp.json'))("containers-common's default profile parses, and its CAP_SYS_ADMIN rules follow the capability", () => {
    const real = parseEngineProfile(readFileSync('/usr/share/containers/seccomp.json', 'utf8'), 'containers-common');
    const plain = profileToOci(real, { caps: ['CAP_CHOWN'], arch: 'x64', kernel: '6.18.0' });
    const admin = profileToOci(real, { caps: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], arch: 'x64', kernel: '6.18.0' });
    const allowed = (s: typeof plain, n: string) => s.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes(n) && !r.args);
    expect(allowed(plain, 'read')).toBe(true);
    expect(allowed(plain, 'sethostname')).toBe(false);
    expect(allowed(admin, 'sethostname')).toBe(true);
  });
});
