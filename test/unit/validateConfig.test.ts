import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, validateConfigDocument } from '../../src/spec/validateConfig.js';
import { defaultSpec } from '../../src/spec/defaultSpec.js';
import { pointerToPath } from '../../src/common/jsonPointer.js';

const base = () => JSON.parse(JSON.stringify(defaultSpec()));

function problems(edit: (c: any) => void) {
  const c = base();
  edit(c);
  return validateConfigDocument(c).map((p) => `${p.field}: ${p.message}`);
}

describe('config validation', () => {
  it('accepts the default spec and runc-style rootless spec', () => {
    expect(validateConfigDocument(defaultSpec())).toEqual([]);
    expect(validateConfigDocument(defaultSpec(true))).toEqual([]);
  });
  it('names broken JSON', () => {
    expect(() => parseConfig('{"ociVersion": ', 'b/config.json')).toThrow(/b\/config.json: \.: invalid JSON/);
  });
  it('names the field of a wrong type with a JSON path', () => {
    expect(problems((c) => (c.process.args = 'sh'))).toContain('.process.args: must be of type array');
    expect(problems((c) => (c.process.user.uid = -1))).toContain('.process.user.uid: must be >= 0');
    expect(problems((c) => (c.linux.namespaces[0].type = 'bogus'))[0]).toMatch(/^\.linux\.namespaces\[0\]\.type: must be one of/);
    expect(problems((c) => delete c.ociVersion)).toContain('.ociVersion: is required');
  });
  it('requires a non-empty process.args', () => {
    expect(problems((c) => (c.process.args = []))).toContain('.process.args: must be a non-empty array');
  });
  it('refuses an unknown major ociVersion but tolerates unknown fields', () => {
    expect(problems((c) => (c.ociVersion = '2.0.0'))).toEqual(['.ociVersion: major version 2 is not supported (tsrun reads 1.x)']);
    expect(problems((c) => (c.someVendorField = { x: 1 }))).toEqual([]);
  });
  it('checks what the schema cannot: absolute paths, duplicates, user namespace mappings, sysctls', () => {
    expect(problems((c) => (c.process.cwd = 'tmp'))).toContain('.process.cwd: must be an absolute path, got "tmp"');
    expect(problems((c) => (c.mounts[0].destination = 'proc'))).toContain('.mounts[0].destination: must be an absolute path, got "proc"');
    expect(problems((c) => c.linux.namespaces.push({ type: 'pid' }))[0]).toMatch(/^\.linux\.namespaces\[6\]: duplicate namespace type "pid"/);
    expect(problems((c) => c.linux.namespaces.push({ type: 'user' }))).toContain('.linux.uidMappings: a new user namespace needs both uidMappings and gidMappings');
    expect(problems((c) => (c.linux.sysctl = { 'vm.swappiness': '1' }))[0]).toMatch(/not a namespaced sysctl/);
    expect(problems((c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'uts'))))
      .toContain('.hostname: setting a hostname needs a new uts namespace');
  });
  it('reports every problem at once', () => {
    try {
      parseConfig(JSON.stringify({ ociVersion: '1.0.0', process: { cwd: 'x', user: { uid: 'a', gid: 0 } } }));
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems.length).toBeGreaterThanOrEqual(1);
      expect((e as Error).message).toMatch(/config.json: \.process\.user\.uid: must be of type integer/);
    }
  });
  it('writes JSON pointers as dotted paths', () => {
    expect(pointerToPath('/linux/sysctl/net.ipv4.ip_forward')).toBe('.linux.sysctl["net.ipv4.ip_forward"]');
    expect(pointerToPath('/mounts/3/options/0')).toBe('.mounts[3].options[0]');
    expect(pointerToPath('')).toBe('.');
  });
});

describe('input hygiene (issue 14)', () => {
  it('refuses NUL bytes in any string or key, naming the field (the native side would cut the string there)', () => {
    expect(problems((c) => (c.process.args = ['sh', 'a\0b']))).toContain('.process.args[1]: contains a NUL byte');
    expect(problems((c) => (c.process.env = ['A=1\0B=2']))).toContain('.process.env[0]: contains a NUL byte');
    expect(problems((c) => (c.annotations = { 'k\0': 'v' }))).toContain('.annotations["k\\u0000"]: the key contains a NUL byte');
    expect(problems((c) => (c.mounts[0].destination = '/proc\0x'))).toContain('.mounts[0].destination: contains a NUL byte');
  });
  it('refuses rlimits above 2^64-1 or not integers, and takes 18446744073709551615 as unlimited', () => {
    const rl = (v: number) => problems((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: v }]));
    expect(rl(1e30)).toContain('.process.rlimits[0].hard: 1e+30 is above 2^64-1 (use 18446744073709551615 for unlimited)');
    expect(rl(1.5).join('\n')).toMatch(/\.process\.rlimits\[0\]\.hard: must be (of type )?integer|must be a non-negative integer/);
    expect(validateConfigDocument(JSON.parse(JSON.stringify(base()).replace('"rlimits":[', '"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615},')))).toEqual([]);
  });
  it('requires absolute hook paths (runtime spec)', () => {
    expect(problems((c) => (c.hooks = { prestart: [{ path: 'true' }] }))).toContain('.hooks.prestart[0].path: must be an absolute path, got "true"');
    expect(problems((c) => (c.hooks = { createContainer: [{ path: './hook.sh' }] }))).toContain('.hooks.createContainer[0].path: must be an absolute path, got "./hook.sh"');
    expect(problems((c) => (c.hooks = { poststop: [{ path: '/bin/true' }] }))).toEqual([]);
  });
});
