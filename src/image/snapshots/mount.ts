// Mounting a snapshot's mounts on a target (a bundle's rootfs) and undoing it.
import { dirname, relative } from 'node:path';
import { addon } from '../../native/addon.js';
import { RuntimeError } from '../../common/errors.js';
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
    let data = m.options.join(',');
    let cwd: string | undefined;
    if (m.type === 'overlay' && data.length > MAX_MOUNT_DATA) {
      // containerd's way past the page: name the layers relative to the directory
      // they share, from inside it (overlayfs resolves them against our cwd).
      ({ data, dir: cwd } = relativeOverlayOptions(m.options));
      if (data.length > MAX_MOUNT_DATA) {
        const layers = (/lowerdir=([^,]*)/.exec(data)?.[1] ?? '').split(':').length;
        throw new RuntimeError({ step: 'mount the overlay snapshot', path: target, detail: `its options are ${data.length} bytes for ${layers} layers even relative to ${cwd}, over the kernel's ${MAX_MOUNT_DATA + 1}-byte limit for mount data` });
      }
    }
    const before = process.cwd();
    try {
      if (cwd) process.chdir(cwd);
      if (m.type === 'bind') {
        addon().mount(m.source, target, '', MS_BIND | MS_REC, '');
        if (m.options.includes('ro')) addon().mount('', target, '', MS_BIND | MS_REMOUNT | MS_RDONLY, '');
      } else {
        addon().mount(m.source, target, m.type, 0, data);
      }
    } catch (e) {
      throw RuntimeError.fromSystem(`mount the ${m.type} snapshot`, e, { path: target, detail: `${(e as Error).message} (options ${data}${cwd ? ` in ${cwd}` : ''})` });
    } finally {
      if (cwd) process.chdir(before);
    }
  }
}

/** Overlay options with lowerdir, upperdir and workdir relative to the deepest directory they all share. */
export function relativeOverlayOptions(options: string[]): { data: string; dir: string } {
  const isPathOption = (o: string) => /^(lowerdir|upperdir|workdir)=/.test(o);
  const paths = options.filter(isPathOption).flatMap((o) => o.slice(o.indexOf('=') + 1).split(':'));
  let dir = dirname(paths[0] ?? '/');
  while (!paths.every((p) => p.startsWith(`${dir}/`)) && dir !== '/') dir = dirname(dir);
  const data = options
    .map((o) => {
      if (!isPathOption(o)) return o;
      const key = o.slice(0, o.indexOf('='));
      return `${key}=${o.slice(key.length + 1).split(':').map((p) => relative(dir, p)).join(':')}`;
    })
    .join(',');
  return { data, dir };
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
