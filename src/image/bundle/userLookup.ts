// The image's `User` ("name", "uid", "name:group", "uid:gid") resolved through
// the image's own /etc/passwd and /etc/group, read without ever following a
// symlink out of the rootfs, the way docker and containerd resolve it.
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../../common/errors.js';
import { parseGroup, parsePasswd } from '../../common/passwd.js';
import { resolveInRoot } from '../../common/resolveInRoot.js';

function readInRoot(rootfs: string, path: string): string | undefined {
  try {
    return readFileSync(resolveInRoot(rootfs, path), 'utf8');
  } catch {
    return undefined;
  }
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
  /** The passwd home, for HOME. */
  home?: string;
}

const isNum = (s: string) => /^\d+$/.test(s);

export function resolveUser(rootfs: string, spec: string | undefined): ResolvedUser {
  const [userPart, groupPart] = (spec ?? '').split(':', 2) as [string, string | undefined];
  const passwd = parsePasswd(readInRoot(rootfs, '/etc/passwd') ?? '');
  const groups = parseGroup(readInRoot(rootfs, '/etc/group') ?? '');
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  let home: string | undefined;
  const who = userPart || '0';
  const entry = passwd.find((e) => (isNum(who) ? e.uid === who : e.name === who));
  if (entry) {
    name = entry.name;
    uid = Number(entry.uid);
    gid = Number(entry.gid);
    home = entry.home;
  } else if (isNum(who)) {
    uid = Number(who);
  } else {
    throw new RuntimeError({ step: 'resolve image user', path: '/etc/passwd', detail: `no user ${JSON.stringify(who)} in the image's /etc/passwd` });
  }
  if (groupPart !== undefined && groupPart !== '') {
    const g = groups.find((e) => (isNum(groupPart) ? e.gid === groupPart : e.name === groupPart));
    if (g) gid = Number(g.gid);
    else if (isNum(groupPart)) gid = Number(groupPart);
    else throw new RuntimeError({ step: 'resolve image user', path: '/etc/group', detail: `no group ${JSON.stringify(groupPart)} in the image's /etc/group` });
  }
  // Supplementary groups: every group that lists the user as a member (only when no group was forced).
  const additional = name && groupPart === undefined
    ? groups.filter((e) => e.members.includes(name!)).map((e) => Number(e.gid)).filter((g) => g !== gid)
    : [];
  return { uid, gid, ...(additional.length ? { additionalGids: [...new Set(additional)] } : {}), ...(home ? { home } : {}) };
}

