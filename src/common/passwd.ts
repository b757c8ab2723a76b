// /etc/passwd and /etc/group as records: the host's (the state's owner) and an
// image's (its User, read inside the rootfs by src/image). Fields stay text as
// written, so a lookup by number ("0") and by name never mix.
import { readFileSync } from 'node:fs';

export interface PasswdEntry {
  name: string;
  uid: string;
  gid: string;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: string;
  members: string[];
}

/** The lines with all seven passwd fields. */
export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0], uid: f[2], gid: f[3], home: f[5] }));
}

/** The lines with all four group fields. */
export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], gid: f[2], members: f[3].split(',') }));
}

/**
 * runc's OWNER: the name of `uid` in this host's /etc/passwd, else the number.
 * Read here because os.userInfo() answers "unknown" on bun.
 */
export function hostUserName(uid: number): string {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return String(uid);
  }
  return parsePasswd(text).find((e) => e.uid !== '' && Number(e.uid) === uid)?.name ?? String(uid);
}
