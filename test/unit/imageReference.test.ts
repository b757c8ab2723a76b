import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { familiarName, formatReference, parseReference } from '../../src/image/reference.js';
import { chainIds } from '../../src/image/unpack/unpacker.js';
import { matches, parsePlatform, selectManifest } from '../../src/image/platform.js';
import { parseChallenge } from '../../src/image/registry/client.js';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app:v2', 'docker.io/user/app:v2'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost/app:x', 'localhost/app:x'],
    ['quay.io/a/b/c:1.0', 'quay.io/a/b/c:1.0'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`],
  ])('%s → %s', (input, full) => {
    expect(formatReference(parseReference(input))).toBe(full);
  });

  it.each(['', 'Busybox', 'busybox:', 'a b', 'busybox@sha256:123', 'busybox:-x', 'a//b'])('refuses %j', (bad) => {
    expect(() => parseReference(bad)).toThrow(/invalid image reference/);
  });

  it('shows familiar names', () => {
    expect(familiarName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarName('docker.io/user/app:1')).toBe('user/app:1');
    expect(familiarName('quay.io/a/b:1')).toBe('quay.io/a/b:1');
  });
});

describe('chain IDs', () => {
  it('follow the OCI definition', () => {
    const d = [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`];
    const c = chainIds(d);
    expect(c[0]).toBe(d[0]);
    expect(c[1]).toBe('sha256:' + createHash('sha256').update(`${d[0]} ${d[1]}`).digest('hex'));
    // A fixed value, computed once with: printf '%s %s' sha256:111… sha256:222… | sha256sum
    expect(c[1]).toBe('sha256:9932074217c35353d2e03a3f5a86549f7c67bfeb0ba53e23d69f4d4c8f7958f5');
    expect(chainIds([])).toEqual([]);
  });
});

describe('platforms', () => {
  const m = (os: string, architecture: string, variant?: string) => ({ mediaType: 'x', digest: `${os}/${architecture}/${variant}`, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });
  it('matches arm64 with and without v8, and never unknown/unknown attestations', () => {
    expect(matches(parsePlatform('linux/arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe(true);
    expect(matches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' })).toBe(true);
    expect(matches(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
    expect(selectManifest([m('unknown', 'unknown'), m('linux', 'arm64', 'v8'), m('linux', 'amd64')], parsePlatform('linux/amd64'))?.digest).toBe('linux/amd64/undefined');
    expect(selectManifest([m('linux', 'arm64', 'v8')], parsePlatform('linux/amd64'))).toBeUndefined();
    expect(() => parsePlatform('linux')).toThrow(/os\/arch/);
  });
});

describe('WWW-Authenticate', () => {
  it('parses Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });
});
