import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { RuntimeError } from '../../common/errors.js';

export function readCgroupFile(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

export function writeCgroupFile(path: string, value: string, pointer?: string): void {
  try {
    writeFileSync(path, value);
  } catch (e) {
    throw RuntimeError.fromSystem(`write ${JSON.stringify(value)} to cgroup file`, e, { path, pointer, syscall: 'write' });
  }
}

export function readPids(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Directories from `dir` up that do not exist yet, outermost first. */
export function missingAncestors(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  return missing;
}
