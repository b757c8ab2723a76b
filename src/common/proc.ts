import { readFileSync } from 'node:fs';

export interface ProcStat {
  state: string;
  startTime: string;
}

/** Reads /proc/<pid>/stat; undefined if the process is gone. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], startTime: rest[19] };
}

/**
 * True if `pid` is the same live (non-zombie) process that started at
 * `startTime`. Without a start time we cannot tell it from a process that
 * reused the pid: fail closed, it is not ours.
 */
export function isProcessAlive(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || !startTime) return false;
  const st = readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X') return false;
  return st.startTime === startTime;
}
