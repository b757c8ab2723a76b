// config.md: root, mounts, process, user, capabilities, rlimits, hostname, annotations.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capMask, probe, runExpectFailure } from '../lib/runtime.js';

const mount = (p: Record<string, string>, point: string) => p.mountinfo.split('\n').find((l: string) => l.split(' ')[4] === point) ?? '';

describe('config.md#hostname', () => {
  it('[MUST] hostname and domainname in the new UTS namespace', () => {
    const p = probe((c) => {
      c.hostname = 'spec-host';
      c.domainname = 'spec.example';
    });
    expect(p.hostname).toBe('spec-host');
    expect(p.domainname).toBe('spec.example');
  });
});

