// `docker top`: the container's processes with the columns of `ps -ef`
// (Docker's default), read from /proc for the pids the runtime names. Other
// ps arguments are not supported (the API layer refuses them).
import { readFile } from 'node:fs/promises';

export interface Top {
  Titles: string[];
  Processes: string[][];
}

/** ps -ef's header, as Docker's top sends it. */
export const TOP_TITLES = 'UID PID PPID C STIME TTY TIME CMD'.split(' ');

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on every Linux ABI in use). */
const TICKS = 100;

async function userNames(): Promise<Map<number, string>> {
  const m = new Map<number, string>();
  try {
    for (const line of (await readFile('/etc/passwd', 'utf8')).split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && /^\d+$/.test(f[2]) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
    }
  } catch { /* numbers then */ }
  return m;
}

/** tty_nr as ps names it: pts/N, ttyN, or ? for none. */
function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  if (major === 4) return `ttyS${minor - 64}`;
  return '?';
}

const pad = (n: number) => String(n).padStart(2, '0');

function cpuTime(ticks: number): string {
  const s = Math.floor(ticks / TICKS);
  const days = Math.floor(s / 86400);
  const hms = `${pad(Math.floor((s % 86400) / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  return days ? `${days}-${hms}` : hms;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function startTime(ms: number, now: number): string {
  const d = new Date(ms);
  if (now - ms < 24 * 3600 * 1000) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${MONTHS[d.getMonth()]}${pad(d.getDate())}`;
}

/** One process's row, or undefined when it exited meanwhile. */
async function row(pid: number, users: Map<number, string>, bootMs: number, uptimeS: number): Promise<string[] | undefined> {
  let stat: string, status: string, cmdline: string;
  try {
    [stat, status, cmdline] = await Promise.all(['stat', 'status', 'cmdline'].map((f) => readFile(`/proc/${pid}/${f}`, 'utf8')));
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: the fields follow the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const f = stat.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  const ttyNr = Number(f[4]);
  const cpuTicks = Number(f[11]) + Number(f[12]);
  const startTicks = Number(f[19]);
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const elapsedS = uptimeS - startTicks / TICKS;
  const c = elapsedS > 0 ? Math.floor((cpuTicks / TICKS / elapsedS) * 100) : 0;
  const args = cmdline.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  const cmd = args.length ? args.join(' ') : `[${comm}]`;
  const now = Date.now();
  return [users.get(uid) ?? String(uid), String(pid), String(ppid), String(c), startTime(bootMs + (startTicks / TICKS) * 1000, now), ttyName(ttyNr), cpuTime(cpuTicks), cmd];
}

export async function topOf(pids: number[]): Promise<Top> {
  const [users, stat, uptime] = await Promise.all([userNames(), readFile('/proc/stat', 'utf8'), readFile('/proc/uptime', 'utf8')]);
  const bootMs = Number(/^btime (\d+)/m.exec(stat)?.[1] ?? 0) * 1000;
  const uptimeS = Number(uptime.split(' ')[0]);
  const rows = await Promise.all([...pids].sort((a, b) => a - b).map((p) => row(p, users, bootMs, uptimeS)));
  return { Titles: TOP_TITLES, Processes: rows.filter((r): r is string[] => !!r) };
}
