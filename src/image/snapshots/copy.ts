// The fallback snapshotter where overlayfs is unavailable: an active snapshot
// starts as a full copy of its parent (reflinks where the filesystem has them)
// and whiteouts are applied as deletions.
import { execFileSync } from 'node:child_process';
import { SnapshotStore, type Mount } from './snapshotter.js';

export class CopySnapshotter extends SnapshotStore {
  readonly driver = 'copy' as const;
  readonly whiteouts = 'delete' as const;

  constructor(dataRoot: string) {
    super(dataRoot, 'copy');
  }

  protected populate(id: string, parentChain: string[]): void {
    if (!parentChain.length) return;
    // cp -a keeps owners, modes, times, xattrs, devices and hard links.
    execFileSync('cp', ['-a', '--reflink=auto', `${this.fsDir(parentChain[0])}/.`, this.fsDir(id)], { stdio: ['ignore', 'ignore', 'pipe'] });
  }

  mounts(key: string): Mount[] {
    const info = this.must(key);
    return [{ type: 'bind', source: this.fsDir(info.id), options: [info.kind === 'committed' ? 'ro' : 'rw', 'rbind'] }];
  }
}
