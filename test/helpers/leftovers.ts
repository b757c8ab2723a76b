// What a command must never leave behind: mounts, cgroups, state dirs, processes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { makeRoot, tsrunSync } from './tsrun.js';

export interface HostSnapshot {
  mounts: string[];
  cgroups: string[];
  processes: string[];
}

function cgroupDirs(): string[] {
  const out: string[] = [];
  const base = '/sys/fs/cgroup';
  const roots = existsSync(join(base, 'cgroup.controllers')) ? [base] : readdirSync(base).map((d) => join(base, d));
  for (const r of roots) {
    const t = join(r, 'tsrun');
    if (!existsSync(t)) continue;
    for (const d of readdirSync(t, { withFileTypes: true })) if (d.isDirectory()) out.push(join(t, d.name));
    out.push(t);
  }
  return out.sort();
}

/** Processes whose command line mentions tsrun-init or runs from a test rootfs. */
function containerProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.includes(') Z ')) continue;
      if (exe.startsWith('tsrun-init')) out.push(`${pid} ${exe.replace(/\0/g, ' ')}`);
    } catch {
      /* exited */
    }
  }
  return out;
}

export function snapshotHost(): HostSnapshot {
  return {
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3, 5).join(' ')).sort(),
    cgroups: cgroupDirs(),
    processes: containerProcesses(),
  };
}

export function stateDirs(root: string): string[] {
  return existsSync(root) ? readdirSync(root) : [];
}

/**
 * A test file's private --root, and the check when the file ends: the host
 * has the same mounts, tsrun cgroups and inits as before it, and no state
 * directory is left. `deleteLeftovers` first force-deletes what a failed test
 * left; files whose tests must clean up after themselves pass false, so a
 * leak fails the file. `setRoot` receives the root and the host as it was,
 * before the first test.
 */
export function guardHost(setRoot: (root: string, before: HostSnapshot) => void, opts: { deleteLeftovers: boolean; checkStateDirs?: boolean }): void {
  let root = '';
  let before: HostSnapshot;
  beforeAll(() => {
    root = makeRoot();
    before = snapshotHost();
    setRoot(root, before);
  });
  afterAll(() => {
    if (opts.deleteLeftovers) for (const id of stateDirs(root)) tsrunSync(['--root', root, 'delete', '--force', id]);
    if (opts.checkStateDirs !== false) expect(stateDirs(root)).toEqual([]);
    expect(snapshotHost()).toEqual(before);
  });
}
