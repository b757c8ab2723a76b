import { rmdirSync } from 'node:fs';
import { RuntimeError } from '../../common/errors.js';
import { policies, waitUntilSync } from '../../common/wait.js';

/** Deepest first; a leaf (no other created dir below it) is the container's own. */
export function removalOrder(created: string[]): Array<{ dir: string; isLeaf: boolean }> {
  return [...created]
    .sort((a, b) => b.length - a.length)
    .map((dir) => ({ dir, isLeaf: !created.some((other) => other !== dir && other.startsWith(`${dir}/`)) }));
}

/**
 * Removes the cgroup directories a container created, deepest first. A shared
 * parent (/tsrun) that still holds other containers stays; the container's
 * own leaf must go, so it is retried while its last processes exit.
 */
export function removeCgroupDirs(created: string[]): void {
  for (const { dir, isLeaf } of removalOrder(created)) {
    let busy: unknown;
    const settled = () => {
      try {
        rmdirSync(dir);
        return true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return true;
        if ((code === 'EBUSY' || code === 'ENOTEMPTY') && !isLeaf) return true;
        if (code !== 'EBUSY') throw RuntimeError.fromSystem('remove cgroup', e, { path: dir, syscall: 'rmdir' });
        busy = e;
        return false;
      }
    };
    if (!waitUntilSync(settled, policies.cgroupRemove)) throw RuntimeError.fromSystem('remove cgroup', busy, { path: dir, syscall: 'rmdir' });
  }
}
