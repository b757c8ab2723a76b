// Mounting a snapshot's mounts on a target (a bundle's rootfs) and undoing it.
import { closeSync, constants, openSync, readFileSync, readlinkSync } from 'node:fs';
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
    if (m.type === 'bind') {
      try {
        addon().mount(m.source, target, '', MS_BIND | MS_REC, '');
        if (m.options.includes('ro')) addon().mount('', target, '', MS_BIND | MS_REMOUNT | MS_RDONLY, '');
      } catch (e) {
        throw RuntimeError.fromSystem('mount the bind snapshot', e, { path: target, detail: `${(e as Error).message} (options ${m.options.join(',')})` });
      }
    } else mountFilesystem(m, target);
  }
}

function mountFilesystem(m: Mount, target: string): void {
  const step = `mount the ${m.type} snapshot`;
  let data = m.options.join(',');
  const opened: number[] = [];
  try {
    const byFd = m.type === 'overlay' && data.length > MAX_MOUNT_DATA;
    if (byFd) {
      // Past the page, each directory is named by an fd we hold open (overlayfs
      // resolves the magic link when it mounts): a short name for any path,
      // without changing the cwd, which a daemon shares with everything it runs.
      const dir = fdDir();
      data = overlayOptionsByFd(m.options, (path) => {
        let fd: number;
        try {
          fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
        } catch (e) {
          throw RuntimeError.fromSystem(step, e, { path });
        }
        opened.push(fd);
        return `${dir}/${fd}`;
      });
      if (data.length > MAX_MOUNT_DATA) {
        const layers = (/lowerdir=([^,]*)/.exec(data)?.[1] ?? '').split(':').length;
        throw new RuntimeError({ step, path: target, detail: `its options are ${data.length} bytes for ${layers} layers even with each directory named by its file descriptor (${dir}/N), over the kernel's ${MAX_MOUNT_DATA + 1}-byte limit for mount data` });
      }
    }
    try {
      addon().mount(m.source, target, m.type, 0, data);
    } catch (e) {
      throw RuntimeError.fromSystem(step, e, { path: target, detail: `${(e as Error).message} (options ${m.options.join(',')}${byFd ? ', each directory passed as an fd' : ''})` });
    }
  } finally {
    // The mount holds its own references to the directories.
    for (const fd of opened) closeSync(fd);
  }
}

let fdDirPath: string | undefined;

/** Where our fds appear as links: /dev/fd is shorter (more layers fit in a page), /proc/self/fd is always there. */
function fdDir(): string {
  if (fdDirPath === undefined) {
    let viaDev = false;
    try {
      viaDev = readlinkSync('/dev/fd') === '/proc/self/fd';
    } catch {
      /* no /dev/fd link */
    }
    fdDirPath = viaDev ? '/dev/fd' : '/proc/self/fd';
  }
  return fdDirPath;
}

/** Overlay options with every directory of lowerdir, upperdir and workdir replaced by what `name` returns for it. */
export function overlayOptionsByFd(options: string[], name: (path: string) => string): string {
  return options
    .map((o) => {
      const key = /^(lowerdir|upperdir|workdir)=/.exec(o)?.[1];
      if (!key) return o;
      return `${key}=${o.slice(key.length + 1).split(':').map(name).join(':')}`;
    })
    .join(',');
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
  let choice = driver ?? 'auto';
  if (choice === 'auto') choice = /\soverlay$/m.test(readFileSync('/proc/filesystems', 'utf8')) ? 'overlay' : 'copy';
  if (choice === 'overlay') return new (await import('./overlay.js')).OverlaySnapshotter(dataRoot);
  if (choice === 'copy') return new (await import('./copy.js')).CopySnapshotter(dataRoot);
  throw new RuntimeError({ step: 'snapshotter', detail: `unknown snapshotter ${JSON.stringify(choice)}: use overlay or copy` });
}
