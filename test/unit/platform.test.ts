import { describe, expect, it } from 'vitest';
import { matches, parsePlatform, selectManifest } from '../../src/image/platform.js';

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
