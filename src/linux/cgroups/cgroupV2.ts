// cgroup v2: one directory in the unified hierarchy.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Resources } from '../../spec/types.js';
import { v2Writes } from './resourceFiles.js';
import { RuntimeError } from '../../runtime/errors.js';
import { CGROUP_ROOT, missingAncestors, type CgroupManager } from './manager.js';
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

  apply(resources: Resources | undefined): void {
    if (resources?.devices?.some((d) => !d.allow || d.type !== 'a'))
      this.warnings.push('linux.resources.devices is not enforced on cgroup v2 yet (needs an eBPF device program)');
    for (const wr of v2Writes(resources)) {
      const file = join(this.dir, wr.file);
      if (!existsSync(file)) throw new RuntimeError({ step: `set ${wr.file}`, path: file, pointer: wr.pointer, detail: 'this controller is not enabled for the container\'s cgroup' });
      writeCgroupFile(file, wr.value, wr.pointer);
    }
  }

  readonly warnings: string[] = [];

  pids(): number[] {
    return readPids(join(this.dir, 'cgroup.procs'));
  }

  freeze(): void {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '1');
  }

  thaw(): void {
    writeCgroupFile(join(this.dir, 'cgroup.freeze'), '0');
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
