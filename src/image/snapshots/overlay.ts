// The overlayfs snapshotter: each layer's own directory is a lower dir, a
// container's active snapshot is the upper dir. Nothing is copied, so a layer
// shared by many images is stored once.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SnapshotStore, type Mount } from './snapshotter.js';

export class OverlaySnapshotter extends SnapshotStore {
  readonly driver = 'overlay' as const;
  readonly whiteouts = 'overlay' as const;

  constructor(dataRoot: string) {
    super(dataRoot, 'overlay');
  }

  protected async populate(id: string, parentChain: string[]): Promise<void> {
    if (parentChain.length) mkdirSync(join(this.dir(id), 'work'), { recursive: true });
  }

  mounts(key: string): Mount[] {
    const info = this.must(key);
    const lowers = this.chain(info.parent).map((id) => this.fsDir(id));
    if (info.kind === 'committed') {
      if (lowers.length === 0) return [{ type: 'bind', source: this.fsDir(info.id), options: ['ro', 'rbind'] }];
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${[this.fsDir(info.id), ...lowers].join(':')}`] }];
    }
    if (lowers.length === 0) return [{ type: 'bind', source: this.fsDir(info.id), options: ['rw', 'rbind'] }];
    return [{
      type: 'overlay',
      source: 'overlay',
      options: [`workdir=${join(this.dir(info.id), 'work')}`, `upperdir=${this.fsDir(info.id)}`, `lowerdir=${lowers.join(':')}`],
    }];
  }
}
