// One cgroup manager interface; v1 (legacy and hybrid hosts) and v2 (unified)
// implement it. Chosen by what the host mounts at /sys/fs/cgroup.
import { CGROUP_ROOT } from './fsutil.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Device, Resources } from '../../spec/types.js';
import { CgroupV1 } from './cgroupV1.js';
import { CgroupV2 } from './cgroupV2.js';

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Directory per controller (v1) or { '': dir } (v2). */
  readonly paths: Record<string, string>;
  /**
   * The directories create() would make, parents first. Recorded in the state
   * before they exist, so a create killed half-way leaves nothing unknown.
   */
  missingDirs(): string[];
  /** Creates the directories; returns those it created, parents first. */
  create(): string[];
  join(pid: number): void;
  /** Writes the limits; `devices` (linux.devices) are allowed in the device controller too. */
  apply(resources: Resources | undefined, devices?: Device[]): void;
  /** What apply() accepted but could not enforce here. */
  readonly warnings?: string[];
  /** Every pid in the container's cgroup. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** The file isFrozen reads and the value that means frozen (for the native fast path). */
  freezeProbe(): { file: string; value: string } | undefined;
  /** What a `cgroup` mount inside the container binds: one entry per v1 controller, or one with name '' on v2. */
  mountSources(): Array<{ name: string; hostPath: string }>;
}


export function isCgroupV2Host(root = CGROUP_ROOT): boolean {
  return existsSync(`${root}/cgroup.controllers`);
}

/**
 * cgroupsPath: absolute paths are used as given below each hierarchy's root;
 * relative ones (and the default, the container id) go under /tsrun.
 */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string, systemd = false): string {
  if (!cgroupsPath) return systemd ? `/system.slice/tsrun-${id}.scope` : `/tsrun/${id}`;
  const parts = /^([^/:]*):([^/:]*):([^/:]+)$/.exec(cgroupsPath);
  if (parts) return systemdPath(parts[1], parts[2], parts[3]);
  const clean = cgroupsPath.split('/').filter((s) => s !== '' && s !== '.');
  if (clean.includes('..')) throw new Error(`cgroupsPath ${JSON.stringify(cgroupsPath)} must not contain ".."`);
  return cgroupsPath.startsWith('/') ? `/${clean.join('/')}` : `/tsrun/${clean.join('/')}`;
}

export function cgroupManager(path: string, existing?: Record<string, string>): CgroupManager {
  return isCgroupV2Host() ? new CgroupV2(path, existing) : new CgroupV1(path, existing);
}


/**
 * The systemd form "slice:prefix:name" (what engines send with
 * --systemd-cgroup) as the cgroupfs path systemd itself would use:
 * "machine-a.slice:libpod:x" -> /machine.slice/machine-a.slice/libpod-x.scope.
 * tsrun writes cgroupfs directly; it does not ask systemd to create a unit.
 */
export function systemdPath(slice: string, prefix: string, name: string): string {
  const s = slice || 'system.slice';
  if (!s.endsWith('.slice')) throw new Error(`systemd slice ${JSON.stringify(s)} must end in .slice`);
  const base = s.slice(0, -'.slice'.length);
  const chain: string[] = [];
  if (base !== '-') {
    const words = base.split('-');
    for (let i = 1; i <= words.length; i++) chain.push(`${words.slice(0, i).join('-')}.slice`);
  }
  const unit = name.endsWith('.slice') ? name : `${prefix ? `${prefix}-` : ''}${name}.scope`;
  return `/${[...chain, unit].join('/')}`;
}
