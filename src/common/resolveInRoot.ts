// A path inside a root directory with its symlinks resolved as if the root
// were / (what openat2's RESOLVE_IN_ROOT does): `..` stops at the root, an
// absolute link target starts again at the root, so no link leads out of it.
// One walk, driven synchronously (the short-lived CLI's image lookups) or on
// the thread pool (the daemon), so the two cannot differ.
import { lstatSync, readlinkSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { RuntimeError } from './errors.js';

/** What the walk asks its driver: a symlink's target, null for any other entry, undefined when the path does not exist. */
type Ask = { path: string };
type Answer = string | null | undefined;

function* walk(root: string, path: string): Generator<Ask, string, Answer> {
  let parts = path.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === '.') continue;
    if (p === '..') {
      done.pop();
      continue;
    }
    const target = yield { path: `${root}/${[...done, p].join('/')}` };
    if (target === undefined) {
      // Missing from here on: the rest is taken as written.
      done.push(p, ...parts);
      break;
    }
    if (target === null) {
      done.push(p);
      continue;
    }
    if (++hops > 40) throw new RuntimeError({ step: 'resolve in rootfs', path, syscall: 'readlink', errno: 'ELOOP', detail: 'too many symlinks' });
    if (target.startsWith('/')) done.length = 0;
    parts = [...target.split('/').filter(Boolean), ...parts];
  }
  return `${root}/${done.join('/')}`;
}

export function resolveInRoot(root: string, path: string): string {
  const w = walk(root, path);
  let step = w.next();
  while (!step.done) {
    let answer: Answer;
    try {
      answer = lstatSync(step.value.path).isSymbolicLink() ? readlinkSync(step.value.path) : null;
    } catch {
      answer = undefined;
    }
    step = w.next(answer);
  }
  return step.value;
}

export async function resolveInRootAsync(root: string, path: string): Promise<string> {
  const w = walk(root, path);
  let step = w.next();
  while (!step.done) {
    let answer: Answer;
    try {
      answer = (await lstat(step.value.path)).isSymbolicLink() ? await readlink(step.value.path) : null;
    } catch {
      answer = undefined;
    }
    step = w.next(answer);
  }
  return step.value;
}
