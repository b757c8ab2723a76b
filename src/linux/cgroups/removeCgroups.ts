import { rmdirSync } from 'node:fs';
import { RuntimeError } from '../../runtime/errors.js';
import { sleepMs } from '../../runtime/processInfo.js';

/**
 * Removes the cgroup directories a container created, deepest first. A shared
 * parent (/tsrun) that still holds other containers stays; the container's
 * own leaf must go, so it is retried while its last processes exit.
 */
export function removeCgroupDirs(created: string[]): void {
  const ordered = [...created].sort((a, b) => b.length - a.length);
  for (const dir of ordered) {
    const isLeaf = !created.some((other) => other !== dir && other.startsWith(`${dir}/`));
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if ((code === 'EBUSY' || code === 'ENOTEMPTY') && !isLeaf) break;
        if (code === 'EBUSY' && attempt < 200) {
          sleepMs(10);
          continue;
        }
        throw RuntimeError.fromSystem('remove cgroup', e, { path: dir, syscall: 'rmdir' });
      }
    }
  }
}
