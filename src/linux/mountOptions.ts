import { MS } from './constants.js';

export interface ParsedMountOptions {
  /** Flags for the first mount(2) call. */
  flags: number;
  /** Propagation flags applied with a second call (MS_SHARED etc., maybe | MS_REC). */
  propagation: number;
  /** Filesystem-specific data: the options the kernel flags do not cover. */
  data: string[];
  isBind: boolean;
  /** runc extensions that change how the mount is made. */
  tmpcopyup: boolean;
  idmap: boolean;
}

// option -> [clear?, flag]
const FLAG_OPTIONS: Record<string, [boolean, number]> = {
  ro: [false, MS.RDONLY], rw: [true, MS.RDONLY],
  nosuid: [false, MS.NOSUID], suid: [true, MS.NOSUID],
  nodev: [false, MS.NODEV], dev: [true, MS.NODEV],
  noexec: [false, MS.NOEXEC], exec: [true, MS.NOEXEC],
  sync: [false, MS.SYNCHRONOUS], async: [true, MS.SYNCHRONOUS],
  dirsync: [false, MS.DIRSYNC],
  remount: [false, MS.REMOUNT],
  mand: [false, MS.MANDLOCK], nomand: [true, MS.MANDLOCK],
  noatime: [false, MS.NOATIME], atime: [true, MS.NOATIME],
  nodiratime: [false, MS.NODIRATIME], diratime: [true, MS.NODIRATIME],
  relatime: [false, MS.RELATIME], norelatime: [true, MS.RELATIME],
  strictatime: [false, MS.STRICTATIME], nostrictatime: [true, MS.STRICTATIME],
  lazytime: [false, MS.LAZYTIME], nolazytime: [true, MS.LAZYTIME],
  nosymfollow: [false, MS.NOSYMFOLLOW], symfollow: [true, MS.NOSYMFOLLOW],
  silent: [false, MS.SILENT], loud: [true, MS.SILENT],
  bind: [false, MS.BIND], rbind: [false, MS.BIND | MS.REC],
  defaults: [false, 0],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

export function parseMountOptions(type: string | undefined, options: string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let tmpcopyup = false;
  let idmap = false;
  for (const opt of options) {
    const f = FLAG_OPTIONS[opt];
    if (f) {
      flags = f[0] ? flags & ~f[1] : flags | f[1];
      continue;
    }
    const p = PROPAGATION_OPTIONS[opt];
    if (p !== undefined) {
      propagation = p;
      continue;
    }
    if (opt === 'tmpcopyup') tmpcopyup = true;
    else if (opt === 'idmap' || opt === 'ridmap') idmap = true;
    else data.push(opt);
  }
  if (type === 'bind' || type === 'rbind') flags |= type === 'rbind' ? MS.BIND | MS.REC : MS.BIND;
  return { flags, propagation, data, isBind: (flags & MS.BIND) !== 0, tmpcopyup, idmap };
}

/** The flags a bind mount needs in its MS_REMOUNT step (the first bind ignores them), or 0. */
export function bindRemountFlags(flags: number): number {
  const wanted = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME |
    MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW);
  return wanted ? wanted | MS.BIND | MS.REMOUNT : 0;
}
