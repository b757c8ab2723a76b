// cgroup v1: one directory per mounted hierarchy (controllers and named ones
// like name=systemd), found in /proc/self/mountinfo.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Device, Resources } from '../../spec/types.js';
import { v1Writes } from './resourceFiles.js';
import { RuntimeError } from '../../common/errors.js';
import { missingAncestors } from './fsutil.js';
import type { CgroupManager } from './manager.js';
import { readCgroupFile, readPids, writeCgroupFile } from './fsutil.js';

interface Hierarchy {
  /** Directory name under /sys/fs/cgroup (cpu, memory, systemd, ...). */
  name: string;
  mountPoint: string;
  controllers: string[];
}

export function v1Hierarchies(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Hierarchy[] {
  const out: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fstype, , superOpts] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup') continue;
    const fields = line.slice(0, sep).split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root !== '/' || seen.has(superOpts)) continue;
    seen.add(superOpts);
    const controllers = superOpts.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noexec', 'nosuid', 'nodev', 'xattr', 'clone_children'].includes(o));
    out.push({ name: mountPoint.split('/').pop()!, mountPoint, controllers });
  }
  return out;
}

/**
 * A new cpuset starts with no cpus and mems, and no task can join it. Fill
 * every empty level from its parent, top down: a level made by an earlier,
 * interrupted create may still be empty.
 */
function fillCpusets(leaf: string, mountPoint: string): void {
  const chain: string[] = [];
  for (let d = leaf; d.length > mountPoint.length; d = dirname(d)) chain.unshift(d);
  for (const d of chain) {
    for (const f of ['cpuset.cpus', 'cpuset.mems'])
      if (readCgroupFile(join(d, f)) === '') writeCgroupFile(join(d, f), readCgroupFile(join(dirname(d), f)));
  }
}

export class CgroupV1 implements CgroupManager {
  readonly version = 1 as const;
  readonly paths: Record<string, string>;

  constructor(readonly path: string, existing?: Record<string, string>) {
    this.paths = existing ?? Object.fromEntries(v1Hierarchies().map((h) => [h.name, join(h.mountPoint, path)]));
  }

  missingDirs(): string[] {
    return Object.values(this.paths).flatMap((dir) => missingAncestors(dir));
  }

  create(): string[] {
    const created: string[] = [];
    for (const [name, dir] of Object.entries(this.paths)) {
      for (const d of missingAncestors(dir)) {
        try {
          mkdirSync(d);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw RuntimeError.fromSystem('create cgroup', e, { path: d, pointer: '/linux/cgroupsPath' });
          continue;
        }
        created.push(d);
      }
      if (name === 'cpuset') fillCpusets(dir, dir.slice(0, dir.length - this.path.length));
    }
    return created;
  }

  join(pid: number): void {
    for (const dir of Object.values(this.paths)) writeCgroupFile(join(dir, 'cgroup.procs'), String(pid), '/linux/cgroupsPath');
  }

  apply(resources: Resources | undefined, devices?: Device[]): void {
    const writes = v1Writes(resources, devices);
    // Lowering memory below memsw fails until memsw is lowered, and raising memsw above memory is needed first the other way:
    // try in order, then retry what failed once (runc does the same dance).
    const failed = [];
    for (const wr of writes) {
      const dir = this.paths[wr.controller];
      if (!dir) throw new RuntimeError({ step: `set ${wr.file}`, pointer: wr.pointer, detail: `the ${wr.controller} cgroup controller is not mounted on this host` });
      try {
        writeCgroupFile(join(dir, wr.file), wr.value, wr.pointer);
      } catch (e) {
        if (wr.controller !== 'memory') throw e;
        failed.push(wr);
      }
    }
    for (const wr of failed) writeCgroupFile(join(this.paths[wr.controller], wr.file), wr.value, wr.pointer);
  }

  pids(): number[] {
    const dir = this.paths.pids ?? this.paths.memory ?? Object.values(this.paths)[0];
    return dir ? readPids(join(dir, 'cgroup.procs')) : [];
  }

  freeze(): void {
    writeCgroupFile(join(this.requireFreezer(), 'freezer.state'), 'FROZEN');
  }

  thaw(): void {
    writeCgroupFile(join(this.requireFreezer(), 'freezer.state'), 'THAWED');
  }

  freezeProbe(): { file: string; value: string } | undefined {
    return this.paths.freezer ? { file: join(this.paths.freezer, 'freezer.state'), value: 'FROZEN' } : undefined;
  }

  isFrozen(): boolean {
    const dir = this.paths.freezer;
    if (!dir) return false;
    try {
      return readCgroupFile(join(dir, 'freezer.state')) === 'FROZEN';
    } catch {
      return false;
    }
  }

  mountSources(): Array<{ name: string; hostPath: string }> {
    return Object.entries(this.paths).map(([name, hostPath]) => ({ name, hostPath }));
  }

  private requireFreezer(): string {
    const dir = this.paths.freezer;
    if (!dir) throw new RuntimeError({ step: 'freeze', detail: 'the freezer cgroup controller is not mounted' });
    return dir;
  }
}
