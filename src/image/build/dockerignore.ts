// .dockerignore as Docker 20.10 reads and applies it (the CLI's
// builder/dockerignore.ReadAll, pkg/fileutils.PatternMatcher, and the
// context walk of pkg/archive.TarWithOptions): patterns cleaned, a leading
// `/` dropped, `!` exceptions, the last matching pattern deciding, a pattern
// that matches a parent directory excluding what is below it. Go's
// filepath.Match syntax (shared with COPY's globs, contextHash.ts) lives here.
import { lstat, opendir } from 'node:fs/promises';
import { RuntimeError } from '../../common/errors.js';

export interface Pattern {
  /** As cleaned, without the `!`. */
  pattern: string;
  exclusion: boolean;
  /** The pattern's path components (how many parent levels it can match). */
  dirs: string[];
  regexp: RegExp;
}

/** Go's path.Clean on a slash path. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  return rooted ? `/${s}` : s || '.';
}

function badPattern(pattern: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: `pattern ${JSON.stringify(pattern)}`, detail: 'syntax error in pattern' });
}

/** The .dockerignore text → patterns, in order (comments and blank lines dropped). */
export function parseDockerignore(text: string): Pattern[] {
  const lines = text.split('\n');
  if (lines.length) lines[0] = lines[0].replace(/^\uFEFF/, '');
  const raw: string[] = [];
  for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    raw.push(invert ? `!${p}` : p);
  }
  return compilePatterns(raw);
}

/** NewPatternMatcher: each pattern checked with Go's Match syntax, compiled to moby's regexp. */
export function compilePatterns(patterns: string[]): Pattern[] {
  const out: Pattern[] = [];
  for (let p of patterns) {
    p = p.trim();
    if (p === '') continue;
    p = cleanPath(p);
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new RuntimeError({ kind: 'invalid-argument', step: 'read .dockerignore', detail: 'illegal exclusion pattern: "!"' });
      exclusion = true;
      p = p.slice(1);
    }
    goMatch(p, '.');
    out.push({ pattern: p, exclusion, dirs: p.split('/'), regexp: compileRegexp(p) });
  }
  return out;
}

/** moby's Pattern.compile: `**` any number of directories, `*`/`?` within one, other characters as in a regexp. */
function compileRegexp(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let re = '^';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '.' || ch === '$') re += `\\${ch}`;
    else if (ch === '\\') {
      if (i + 1 < chars.length) re += `\\${chars[++i]}`;
      else re += '\\\\';
    } else re += ch;
  }
  re += '$';
  try {
    return new RegExp(re);
  } catch {
    throw badPattern(pattern);
  }
}

/** Whether a context-relative path (slashes) is excluded: the last matching pattern decides; a pattern also matches the path's parents. */
export function isExcluded(relPath: string, patterns: Pattern[]): boolean {
  const file = cleanPath(relPath);
  const slash = file.lastIndexOf('/');
  const parent = slash < 0 ? '.' : file.slice(0, slash);
  const parentDirs = parent.split('/');
  let matched = false;
  for (const p of patterns) {
    let match = p.regexp.test(file);
    if (!match && parent !== '.' && p.dirs.length <= parentDirs.length) {
      match = p.regexp.test(parentDirs.slice(0, p.dirs.length).join('/'));
    }
    if (match) matched = !p.exclusion;
  }
  return matched;
}

/** The docker CLI always sends .dockerignore and the Dockerfile (TrimBuildFilesFromExcludes). */
export function withBuildFiles(patterns: Pattern[], dockerfile: string | undefined): Pattern[] {
  const out = [...patterns];
  if (isExcluded('.dockerignore', out)) out.push(...compilePatterns(['!.dockerignore']));
  if (dockerfile !== undefined && isExcluded(dockerfile, out)) out.push(...compilePatterns([`!${dockerfile}`]));
  return out;
}

export type ContextEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface ContextEntry {
  /** Relative to the context, slashes, no leading `./`. */
  path: string;
  type: ContextEntryType;
}

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): ContextEntryType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

export interface WalkOptions {
  /** The Dockerfile's path in the context: kept even when a pattern excludes it. */
  dockerfile?: string;
}

/**
 * The entries of a build context that are sent, directories included, in Go's
 * filepath.Walk order (names sorted bytewise), never following a symlink. An
 * excluded directory is skipped whole unless an exception pattern names
 * something under it; then it is walked but not itself sent.
 */
export async function* walkContext(dir: string, patterns: Pattern[], options: WalkOptions = {}): AsyncGenerator<ContextEntry> {
  const effective = withBuildFiles(patterns, options.dockerfile);
  const exclusions = effective.filter((p) => p.exclusion);
  async function* walk(rel: string): AsyncGenerator<ContextEntry> {
    const abs = rel === '' ? dir : `${dir}/${rel}`;
    let names: string[];
    try {
      names = [];
      for await (const d of await opendir(abs)) names.push(d.name);
    } catch (e) {
      throw RuntimeError.fromSystem('read build context', e, { path: abs });
    }
    names.sort(compareBytes);
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      let type: ContextEntryType;
      try {
        type = typeOf(await lstat(`${dir}/${path}`));
      } catch (e) {
        throw RuntimeError.fromSystem('read build context', e, { path: `${dir}/${path}` });
      }
      if (isExcluded(path, effective)) {
        if (type !== 'directory') continue;
        const dirSlash = `${path}/`;
        if (exclusions.some((p) => `${p.pattern}/`.startsWith(dirSlash))) yield* walk(path);
        continue;
      }
      yield { path, type };
      if (type === 'directory') yield* walk(path);
    }
  }
  yield* walk('');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---- Go's filepath.Match (Unix) ----

/** Go's filepath.Match: `*` and `?` never match `/`, `[...]`/`[^...]` classes, `\` escapes; a malformed pattern throws. */
export function goMatch(pattern: string, name: string): boolean {
  let pat = Array.from(pattern);
  let s = Array.from(name);
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) return !s.includes('/');
    const t = matchChunk(chunk, s, pattern);
    if (t !== null && (t.length === 0 || pat.length > 0)) {
      s = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, s.slice(i + 1), pattern);
        if (t2 !== null) {
          if (pat.length === 0 && t2.length > 0) continue;
          s = t2;
          continue outer;
        }
      }
    }
    // No match: still report a malformed rest of the pattern.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, [], pattern);
    }
    return false;
  }
  return s.length === 0;
}

function scanChunk(pattern: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let star = false;
  let p = pattern;
  while (p.length > 0 && p[0] === '*') {
    p = p.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < p.length; i++) {
    switch (p[i]) {
      case '\\':
        if (i + 1 < p.length) i++;
        break;
      case '[':
        inRange = true;
        break;
      case ']':
        inRange = false;
        break;
      case '*':
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: p.slice(0, i), rest: p.slice(i) };
}

/** The rest of s after chunk matched its start, or null; throws on a malformed chunk even after a failed match. */
function matchChunk(chunkIn: string[], sIn: string[], whole: string): string[] | null {
  let chunk = chunkIn;
  let s = sIn;
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case '[': {
        let r = '';
        if (!failed) {
          r = s[0];
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === '^') {
          negated = true;
          chunk = chunk.slice(1);
        }
        let match = false;
        let nrange = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
            chunk = chunk.slice(1);
            break;
          }
          const lo = getEsc(chunk, whole);
          chunk = lo.rest;
          let hi = lo.ch;
          if (chunk[0] === '-') {
            const h = getEsc(chunk.slice(1), whole);
            hi = h.ch;
            chunk = h.rest;
          }
          if (!failed && (lo.ch.codePointAt(0) ?? 0) <= (r.codePointAt(0) ?? 0) && (r.codePointAt(0) ?? 0) <= (hi.codePointAt(0) ?? 0)) match = true;
          nrange++;
        }
        if (match === negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s[0] === '/') failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
        break;
      case '\\':
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw badPattern(whole);
      // falls through
      default:
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.slice(1);
        }
        chunk = chunk.slice(1);
    }
  }
  return failed ? null : s;
}

function getEsc(chunk: string[], whole: string): { ch: string; rest: string[] } {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw badPattern(whole);
  let c = chunk;
  if (c[0] === '\\') {
    c = c.slice(1);
    if (c.length === 0) throw badPattern(whole);
  }
  const rest = c.slice(1);
  if (rest.length === 0) throw badPattern(whole);
  return { ch: c[0], rest };
}
