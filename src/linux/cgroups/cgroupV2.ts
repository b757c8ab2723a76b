// cgroup v2: one directory in the unified hierarchy.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Device, Resources } from '../../spec/types.js';
import { bpfDeviceRules, v2Writes } from './resourceFiles.js';
import { deviceProgram, encodeBpfProgram } from './deviceProgram.js';
import { addon } from '../../native/addon.js';
import { RuntimeError } from '../../common/errors.js';
import { CGROUP_ROOT, missingAncestors } from './fsutil.js';
import type { CgroupManager } from './manager.js';
import { readCgroupFile, readPids, writeCgroupFile } from './fsutil.js';

export class CgroupV2 implements CgroupManager {
  readonly version = 2 as const;
  readonly paths: Record<string, string>;

  constructor(readonly path: string, existing?: Record<string, string>, root = CGROUP_ROOT) {
    this.paths = existing ?? { '': join(root, path) };
  }

  private get dir(): string {
    return this.paths[''];
  }

  missingDirs(): string[] {
    return missingAncestors(this.dir);
  }

  create(): string[] {
    const created: string[] = [];
    for (const d of missingAncestors(this.dir)) {
      // Enable in the parent every controller it has, so the child can use them.
      const parent = dirname(d);
      const available = readCgroupFile(join(parent, 'cgroup.controllers')).split(' ').filter(Boolean);
      if (available.length) {
        try {
          writeCgroupFile(join(parent, 'cgroup.subtree_control'), available.map((c) => `+${c}`).join(' '));
        } catch {
          /* a parent with processes cannot delegate; the child still works without limits */
        }
      }
      try {
        mkdirSync(d);
        created.push(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw RuntimeError.fromSystem('create cgroup', e, { path: d, pointer: '/linux/cgroupsPath' });
      }
    }
    return created;
  }

  join(pid: number): void {
    writeCgroupFile(join(this.dir, 'cgroup.procs'), String(pid), '/linux/cgroupsPath');
  }

  apply(resources: Resources | undefined, devices?: Device[]): void {
    // v2 has no devices.allow/deny files: the rules become an eBPF program attached to the cgroup.
    if (resources?.devices) {
      try {
        addon().attachDeviceFilter(this.dir, encodeBpfProgram(deviceProgram(bpfDeviceRules(resources, devices))));
      } catch (e) {
        throw RuntimeError.fromSystem('attach the device filter (eBPF)', e, { path: this.dir, pointer: '/linux/resources/devices' });
      }
    }
    for (const wr of v2Writes(resources)) {
      const file = join(this.dir, wr.file);
      if (!existsSync(file)) throw new RuntimeError({ step: `set ${wr.file}`, path: file, pointer: wr.pointer, detail: 'this controller is not enabled for the container\'s cgroup' });
      writeCgroupFile(file, wr.value, wr.pointer);
    }
  }

  pids(): number[] {
    return readPids(join(this.dir, 'cgroup.procs'));
  }

  freeze(): void {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '1');
  }

  thaw(): void {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '0');
  }

  freezeProbe(): { file: string; value: string } | undefined {
    return { file: join(this.dir, 'cgroup.freeze'), value: '1' };
  }

  isFrozen(): boolean {
    try {
      return readCgroupFile(join(this.dir, 'cgroup.freeze')) === '1';
    } catch {
      return false;
    }
  }

  mountSources(): Array<{ name: string; hostPath: string }> {
    return [{ name: '', hostPath: this.dir }];
  }
}
