// The fallback snapshotter where overlayfs is unavailable: an active snapshot
// starts as a full copy of its parent (reflinks where the filesystem has them)
// and whiteouts are applied as deletions.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SnapshotStore, type Mount } from './snapshotter.js';

const run = promisify(execFile);

export class CopySnapshotter extends SnapshotStore {
  readonly driver = 'copy' as const;
  readonly whiteouts = 'delete' as const;

  constructor(dataRoot: string) {
    super(dataRoot, 'copy');
  }

  protected async populate(id: string, parentChain: string[]): Promise<void> {
    if (!parentChain.length) return;
    // cp -a keeps owners, modes, times, xattrs, devices and hard links.
    await run('cp', ['-a', '--reflink=auto', `${this.fsDir(parentChain[0])}/.`, this.fsDir(id)]);
  }

  mounts(key: string): Mount[] {
    const info = this.must(key);
    return [{ type: 'bind', source: this.fsDir(info.id), options: [info.kind === 'committed' ? 'ro' : 'rw', 'rbind'] }];
  }
}
