import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { RuntimeError } from '../../common/errors.js';

export function readCgroupFile(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

// Knobs the kernel provides only with some configuration, and what it takes.
const CONDITIONAL_KNOBS: Record<string, string> = {
  'blkio.weight': 'the CFQ or BFQ I/O scheduler on the devices',
  'blkio.weight_device': 'the CFQ or BFQ I/O scheduler on the devices',
  'blkio.leaf_weight': 'the CFQ I/O scheduler (removed in Linux 5.0)',
  'blkio.leaf_weight_device': 'the CFQ I/O scheduler (removed in Linux 5.0)',
  'memory.memsw.limit_in_bytes': 'swap accounting (swapaccount=1)',
  'io.weight': 'the BFQ I/O scheduler or io.cost',
};

export function writeCgroupFile(path: string, value: string, pointer?: string): void {
  const step = `write ${JSON.stringify(value)} to cgroup file`;
  let fd: number;
  try {
    // Never O_CREAT: cgroupfs answers a create with EACCES, which hides that the knob is missing.
    fd = openSync(path, constants.O_WRONLY);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(dirname(path))) {
      const needs = CONDITIONAL_KNOBS[basename(path)];
      throw new RuntimeError({
        kind: 'unavailable', step, path, pointer, syscall: 'open', errno: 'ENOENT',
        detail: `this kernel does not support ${basename(path)} here${needs ? ` (it needs ${needs})` : ''}`,
      });
    }
    throw RuntimeError.fromSystem(step, e, { path, pointer, syscall: 'open' });
  }
  try {
    writeSync(fd, value);
  } catch (e) {
    throw RuntimeError.fromSystem(step, e, { path, pointer, syscall: 'write' });
  } finally {
    closeSync(fd);
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
