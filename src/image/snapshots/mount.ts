// Mounting a snapshot's mounts on a target (a bundle's rootfs) and undoing it.
import { addon } from '../../native/addon.js';
import { RuntimeError } from '../../runtime/errors.js';
import type { Mount } from './snapshotter.js';

const MS_RDONLY = 0x1;
const MS_REMOUNT = 0x20;
const MS_BIND = 0x1000;
const MS_REC = 0x4000;
const MNT_DETACH = 2;

// mount(2) takes its data in one page.
const MAX_MOUNT_DATA = 4095;

export function mountAll(mounts: Mount[], target: string): void {
  for (const m of mounts) {
    const data = m.options.join(',');
    if (m.type === 'overlay' && data.length > MAX_MOUNT_DATA) {
      const layers = (/lowerdir=([^,]*)/.exec(data)?.[1] ?? '').split(':').length;
      throw new RuntimeError({ step: 'mount the overlay snapshot', path: target, detail: `its options are ${data.length} bytes for ${layers} layers, over the kernel's ${MAX_MOUNT_DATA + 1}-byte limit for mount data (a shorter --root helps)` });
    }
    try {
      if (m.type === 'bind') {
        addon().mount(m.source, target, '', MS_BIND | MS_REC, '');
        if (m.options.includes('ro')) addon().mount('', target, '', MS_BIND | MS_REMOUNT | MS_RDONLY, '');
      } else {
        addon().mount(m.source, target, m.type, 0, data);
      }
    } catch (e) {
      throw RuntimeError.fromSystem(`mount the ${m.type} snapshot`, e, { path: target, detail: `${(e as Error).message} (options ${m.options.join(',')})` });
    }
  }
}

/** Unmounts target; a busy mount is detached. A target not mounted is fine. */
export function unmount(target: string): void {
  try {
    addon().umount(target, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' || code === 'ENOENT') return;
    if (code === 'EBUSY') {
      addon().umount(target, MNT_DETACH);
      return;
    }
    throw RuntimeError.fromSystem('unmount rootfs', e, { path: target });
  }
}

/** Picks the driver: overlay where the kernel has it, else copy. */
export async function openSnapshotter(dataRoot: string, driver: string | undefined) {
  const { readFileSync } = await import('node:fs');
  let choice = driver ?? 'auto';
  if (choice === 'auto') choice = /\soverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? 'overlay' : 'copy';
  if (choice === 'overlay') return new (await import('./overlay.js')).OverlaySnapshotter(dataRoot);
  if (choice === 'copy') return new (await import('./copy.js')).CopySnapshotter(dataRoot);
  throw new RuntimeError({ step: 'snapshotter', detail: `unknown snapshotter ${JSON.stringify(choice)}: use overlay or copy` });
}
