// A Dockerfile's text → Dockerfile (instructions.ts), as dockerd 20.10's
// classic builder reads it (buildkit v0.8's frontend/dockerfile/parser and
// instructions packages): two passes, as there. The line pass (directives,
// comments, continuations, flags, each instruction's argument syntax) makes
// a node per instruction; the instruction pass checks arguments and flags
// and builds the typed instruction. Arguments stay unexpanded: the builder
// substitutes them (substitute.ts) once ARG/ENV values are known.
import { RuntimeError } from '../../common/errors.js';
import type {
  CommandForm,
  Dockerfile,
  Flags,
  HealthcheckSpec,
  Instruction,
  SourceLocation,
  Stage,
} from './instructions.js';

/** One instruction after the line pass: name lowercased, flags as written (`--from=x`), arguments by the instruction's syntax. */
interface Node {
  cmd: string;
  flags: string[];
  args: string[];
  /** Arguments came from a JSON array (exec form). */
  json: boolean;
  original: string;
  loc: SourceLocation;
  /** ONBUILD's trigger, parsed the same way. */
  sub?: Node;
}

const ESCAPE_DEFAULT = '\\';
const WHITESPACE_RUN = /[\t\v\f\r ]+/;
const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax']);

function parseError(line: number, detail: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: `Dockerfile parse error line ${line}`, detail });
}

function isSpace(ch: string): boolean {
  return /\s/u.test(ch);
}

function trimLeft(s: string): string {
  return s.replace(/^\s+/u, '');
}

function isComment(line: string): boolean {
  return trimLeft(line).startsWith('#');
}

/** Parser directives: only on the first lines, before any other comment, blank line or instruction. */
class Directives {
  escape = ESCAPE_DEFAULT;
  readonly values: Record<string, string> = {};
  private done = false;

  /** Looks at one physical line; returns whether it was a directive. */
  consider(line: string, lineNo: number): boolean {
    if (this.done) return false;
    const m = DIRECTIVE.exec(line);
    const name = m?.[1].toLowerCase();
    if (!m || !name || !KNOWN_DIRECTIVES.has(name)) {
      this.done = true;
      return false;
    }
    if (name in this.values) throw parseError(lineNo, `only one ${name} parser directive can be used`);
    const value = m[2];
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw parseError(lineNo, `invalid escape token '${value}' does not match \` or \\`);
      this.escape = value;
    }
    this.values[name] = value;
    return true;
  }

  /** A line ending in the escape character (spaces after it allowed) continues on the next one. */
  trimContinuation(line: string): { text: string; ends: boolean } {
    const esc = this.escape === '\\' ? '\\\\' : '`';
    const m = new RegExp(`${esc}[ \\t]*$`).exec(line);
    if (!m) return { text: line, ends: true };
    return { text: line.slice(0, m.index), ends: false };
  }
}

export interface ParseOptions {
  /** The Dockerfile's name in Docker's empty-file message. */
  name?: string;
}

export function parseDockerfile(text: string, options: ParseOptions = {}): Dockerfile {
  if (text.length === 0) {
    throw new RuntimeError({ kind: 'invalid-argument', step: 'read Dockerfile', detail: `the Dockerfile (${options.name ?? 'Dockerfile'}) cannot be empty` });
  }
  const { nodes, directives, warnings } = parseLines(text);
  if (nodes.length === 0) throw parseError(1, 'file with no instructions');
  const result: Dockerfile = { directives: directives.values, metaArgs: [], stages: [], warnings };
  for (const node of nodes) {
    const ins = toInstruction(node);
    if (ins.kind === 'FROM') {
      const stage: Stage = { index: result.stages.length, from: ins, instructions: [] };
      if (ins.stageName !== undefined) {
        stage.name = ins.stageName;
        if (result.stages.some((s) => s.name === ins.stageName)) throw parseError(node.loc.line, `${ins.stageName} stage name already used`);
      }
      result.stages.push(stage);
      continue;
    }
    const current = result.stages[result.stages.length - 1];
    if (!current) {
      if (ins.kind === 'ARG') {
        result.metaArgs.push(ins);
        continue;
      }
      throw parseError(node.loc.line, 'no build stage in current context');
    }
    current.instructions.push(ins);
  }
  if (result.stages.length === 0) {
    throw new RuntimeError({ kind: 'invalid-argument', step: 'build', detail: 'No image was generated. Is your Dockerfile empty?' });
  }
  return result;
}

/** An ONBUILD trigger (its `trigger` text) as the instruction a child build runs after its FROM. */
export function parseOnbuildTrigger(trigger: string, loc: SourceLocation, escape: string = ESCAPE_DEFAULT): Instruction {
  const d = new Directives();
  d.escape = escape;
  return toInstruction(parseNode(trigger, loc, d));
}

function parseLines(text: string): { nodes: Node[]; directives: Directives; warnings: string[] } {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // A trailing newline does not start another line (bufio.Scanner).
  if (lines.length > 0 && lines[lines.length - 1] === '' && text.endsWith('\n')) lines.pop();
  if (lines.length > 0) lines[0] = lines[0].replace(/^\uFEFF/, '');
  const d = new Directives();
  const nodes: Node[] = [];
  const warnings: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i++];
    const lineNo = i;
    const first = trimLeft(raw);
    if (d.consider(first, lineNo)) continue;
    if (isComment(first)) continue;
    const column = raw.length - first.length + 1;
    let { text: line, ends } = d.trimContinuation(first);
    if (ends && line === '') continue;
    let emptyContinuation = false;
    while (!ends && i < lines.length) {
      const next = lines[i++];
      if (isComment(next)) continue;
      if (trimLeft(next) === '') {
        emptyContinuation = true;
        continue;
      }
      const t = d.trimContinuation(next);
      line += t.text;
      ends = t.ends;
    }
    if (emptyContinuation) warnings.push(`[WARNING]: Empty continuation line found in:\n    ${line}`);
    nodes.push(parseNode(line, { line: lineNo, column }, d));
  }
  if (warnings.length) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.');
  return { nodes, directives: d, warnings };
}

/** splitCommand + the per-instruction argument syntax of moby's parser dispatch table. */
function parseNode(line: string, loc: SourceLocation, d: Directives): Node {
  const trimmed = line.trim();
  const split = WHITESPACE_RUN.exec(trimmed);
  const cmd = (split ? trimmed.slice(0, split.index) : trimmed).toLowerCase();
  let rest = '';
  let flags: string[] = [];
  if (split) {
    const extracted = extractFlags(trimmed.slice(split.index + split[0].length));
    rest = extracted.rest.trim();
    flags = extracted.flags;
  }
  const node: Node = { cmd, flags, args: [], json: false, original: line, loc };
  const fail = (detail: string): never => {
    throw parseError(loc.line, detail);
  };
  switch (cmd) {
    case 'add':
    case 'copy':
    case 'volume': {
      const j = parseJsonArray(rest, loc.line);
      if (j) Object.assign(node, { args: j, json: true });
      else node.args = splitWhitespace(rest);
      break;
    }
    case 'arg':
      node.args = parseWords(rest, d.escape);
      break;
    case 'cmd':
    case 'entrypoint':
    case 'run':
    case 'shell': {
      if (rest === '') break;
      const j = parseJsonArray(rest, loc.line);
      if (j) Object.assign(node, { args: j, json: true });
      else node.args = [rest];
      break;
    }
    case 'env':
    case 'label':
      node.args = parseNameValue(rest, cmd.toUpperCase(), d.escape, fail);
      break;
    case 'expose':
    case 'from':
      node.args = splitWhitespace(rest);
      break;
    case 'healthcheck': {
      const m = /^(\S+)\s*([\s\S]*)$/u.exec(rest);
      if (!m) break;
      node.args = [m[1]];
      const body = m[2];
      if (body !== '') {
        const j = parseJsonArray(body, loc.line);
        if (j) {
          node.args.push(...j);
          node.json = true;
        } else node.args.push(body);
      }
      break;
    }
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      if (rest !== '') node.args = [rest];
      break;
    case 'onbuild':
      if (rest !== '') node.sub = parseNode(rest, loc, d);
      break;
    default:
      // Unknown instructions fail in the instruction pass, naming themselves.
      break;
  }
  return node;
}

function splitWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(WHITESPACE_RUN);
}

/**
 * Flags (`--name=value` words) at the start of the arguments: quotes and
 * backslash escapes removed, a bare `--` ends them. The rest is returned as written.
 */
function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  let pos = 0;
  while (pos < line.length) {
    while (pos < line.length && isSpace(line[pos])) pos++;
    if (pos >= line.length) return { rest: '', flags };
    if (!line.startsWith('--', pos)) return { rest: line.slice(pos), flags };
    let word = '';
    let blankOk = false;
    let quote = '';
    for (; pos < line.length; pos++) {
      const ch = line[pos];
      if (quote) {
        if (ch === quote) quote = '';
        else if (ch === '\\' && pos + 1 < line.length) word += line[++pos];
        else if (ch !== '\\') word += ch;
        continue;
      }
      if (isSpace(ch)) break;
      if (ch === '"' || ch === "'") {
        quote = ch;
        blankOk = true;
      } else if (ch === '\\') {
        if (pos + 1 < line.length) word += line[++pos];
      } else word += ch;
    }
    if (word === '--') return { rest: line.slice(pos), flags };
    if (blankOk || word.length > 0) flags.push(word);
  }
  return { rest: '', flags };
}

/**
 * Words split at unquoted whitespace; quotes and escapes are kept (the
 * builder's substitution removes them), as moby's parseWords.
 */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (!inWord) {
      if (isSpace(ch)) continue;
      inWord = true;
    }
    if (quote) {
      if (ch === quote) quote = '';
      if (ch === escape && quote !== "'" && ch !== quote) {
        if (i + 1 === chars.length) continue;
        word += ch + chars[++i];
        continue;
      }
      word += ch;
      continue;
    }
    if (isSpace(ch)) {
      if (blankOk || word.length > 0) words.push(word);
      word = '';
      blankOk = false;
      inWord = false;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      blankOk = true;
    }
    if (ch === escape) {
      if (i + 1 === chars.length) continue;
      word += ch + chars[++i];
      continue;
    }
    word += ch;
  }
  if (inWord && (blankOk || word.length > 0)) words.push(word);
  return words;
}

/** ENV/LABEL: `k=v ...` pairs, or the legacy `KEY name value` (first word without `=`). Flattened to [k, v, k, v ...]. */
function parseNameValue(rest: string, instruction: string, escape: string, fail: (d: string) => never): string[] {
  const words = parseWords(rest, escape);
  if (words.length === 0) return [];
  if (!words[0].includes('=')) {
    const m = WHITESPACE_RUN.exec(rest);
    if (!m) fail(`${instruction} must have two arguments`);
    return [rest.slice(0, m!.index), rest.slice(m!.index + m![0].length)];
  }
  const out: string[] = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) fail(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`);
    out.push(w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

/**
 * The exec form: the first JSON value of the arguments, when it is an array
 * (anything after it is ignored, as Go's json.Decoder does). Not JSON → null
 * (the caller takes the shell form); an array of anything but strings is an error.
 */
function parseJsonArray(rest: string, line: number): string[] | null {
  const s = trimLeft(rest);
  if (!s.startsWith('[')) return null;
  const end = endOfJsonValue(s);
  if (end < 0) return null;
  let value: unknown;
  try {
    value = JSON.parse(s.slice(0, end));
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  if (!value.every((v): v is string => typeof v === 'string')) {
    throw parseError(line, 'when using JSON array syntax, arrays must be comprised of strings only');
  }
  return value;
}

/** Index just past the bracketed value starting at 0, or -1 when it does not close. */
function endOfJsonValue(s: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

// ---- the instruction pass (moby's instructions.ParseInstruction) ----

const FLAGS_BY_INSTRUCTION: Record<string, string[]> = {
  from: ['platform'],
  copy: ['from', 'chown', 'chmod'],
  add: ['chown', 'chmod'],
  healthcheck: ['interval', 'timeout', 'start-period', 'retries'],
};

/** RUN's BuildKit-only flags: named in the refusal instead of "Unknown flag". */
const BUILDKIT_RUN_FLAGS = new Set(['mount', 'network', 'security']);

function parseFlags(node: Node): Flags {
  const allowed = FLAGS_BY_INSTRUCTION[node.cmd] ?? [];
  const flags: Flags = {};
  for (const raw of node.flags) {
    if (!raw.startsWith('--')) throw parseError(node.loc.line, `arg should start with -- : ${raw}`);
    if (raw === '--') break;
    const body = raw.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    if (!allowed.includes(name)) {
      if (node.cmd === 'run' && BUILDKIT_RUN_FLAGS.has(name)) {
        throw parseError(node.loc.line, `RUN --${name} is not supported: it requires BuildKit, which this builder does not implement`);
      }
      throw parseError(node.loc.line, `Unknown flag: ${name}`);
    }
    if (name in flags) throw parseError(node.loc.line, `Duplicate flag specified: ${name}`);
    if (eq < 0) throw parseError(node.loc.line, `Missing a value on flag: ${name}`);
    flags[name] = body.slice(eq + 1);
  }
  return flags;
}

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `2<<EOF`) in the shell form of RUN/COPY/ADD. */
const HEREDOC_WORD = /(^|\s)\d*<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\2(\s|$)/;

function refuseHeredoc(node: Node): void {
  if (node.json || !['run', 'copy', 'add'].includes(node.cmd)) return;
  const text = node.args.join(' ');
  if (HEREDOC_WORD.test(text)) {
    throw parseError(node.loc.line, `${node.cmd.toUpperCase()}: heredocs (<<EOF) are not supported (they need BuildKit's Dockerfile syntax 1.4)`);
  }
}

function commandForm(node: Node): CommandForm {
  return node.json ? { form: 'exec', argv: node.args } : { form: 'shell', command: node.args.join(' ') };
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

function toInstruction(node: Node): Instruction {
  const line = node.loc.line;
  const fail = (detail: string): never => {
    throw parseError(line, detail);
  };
  const NAME = node.cmd.toUpperCase();
  const args = node.args;
  const exactlyOne = (): string => (args.length === 1 ? args[0] : fail(`${NAME} requires exactly one argument`));
  const atLeastOne = (): void => {
    if (args.length === 0) fail(`${NAME} requires at least one argument`);
  };
  const base = (flags: Flags) => ({ loc: node.loc, original: node.original, flags });
  refuseHeredoc(node);
  switch (node.cmd) {
    case 'from': {
      let stageName: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        stageName = args[2].toLowerCase();
        if (!STAGE_NAME.test(stageName)) fail(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
      } else if (args.length !== 1) fail('FROM requires either one or three arguments');
      const ins: Instruction = { ...base(parseFlags(node)), kind: 'FROM', image: args[0] };
      if (stageName !== undefined) ins.stageName = stageName;
      return ins;
    }
    case 'run':
      return { ...base(parseFlags(node)), kind: 'RUN', command: commandForm(node) };
    case 'cmd':
      return { ...base(parseFlags(node)), kind: 'CMD', command: commandForm(node) };
    case 'entrypoint':
      return { ...base(parseFlags(node)), kind: 'ENTRYPOINT', command: commandForm(node) };
    case 'shell': {
      const flags = parseFlags(node);
      if (args.length === 0) fail('SHELL requires at least one argument');
      if (!node.json) fail('SHELL requires the arguments to be in JSON form');
      return { ...base(flags), kind: 'SHELL', argv: args };
    }
    case 'copy':
    case 'add': {
      if (args.length < 2) fail(`${NAME} requires at least two arguments, but only one was provided. Destination could not be determined.`);
      const flags = parseFlags(node);
      return { ...base(flags), kind: NAME as 'COPY' | 'ADD', sources: args.slice(0, -1), dest: args[args.length - 1] };
    }
    case 'env':
    case 'label': {
      const flags = parseFlags(node);
      atLeastOne();
      const pairs: Array<{ key: string; value: string }> = [];
      for (let i = 0; i + 1 < args.length; i += 2) {
        if (args[i].length === 0) fail(`${NAME} names can not be blank`);
        pairs.push({ key: args[i], value: args[i + 1] });
      }
      return { ...base(flags), kind: NAME as 'ENV' | 'LABEL', pairs };
    }
    case 'arg': {
      atLeastOne();
      const flags = parseFlags(node);
      const list = args.map((a) => {
        const eq = a.indexOf('=');
        if (eq < 0) return { name: a };
        if (eq === 0) fail('ARG names can not be blank');
        return { name: a.slice(0, eq), default: a.slice(eq + 1) };
      });
      return { ...base(flags), kind: 'ARG', args: list };
    }
    case 'workdir':
      return { ...base(parseFlags(node)), kind: 'WORKDIR', path: exactlyOne() };
    case 'user':
      return { ...base(parseFlags(node)), kind: 'USER', user: exactlyOne() };
    case 'stopsignal':
      return { ...base(parseFlags(node)), kind: 'STOPSIGNAL', signal: exactlyOne() };
    case 'maintainer':
      return { ...base(parseFlags(node)), kind: 'MAINTAINER', name: exactlyOne() };
    case 'expose':
      atLeastOne();
      return { ...base(parseFlags(node)), kind: 'EXPOSE', ports: args };
    case 'volume': {
      const flags = parseFlags(node);
      atLeastOne();
      const paths = args.map((v) => v.trim());
      if (paths.some((p) => p === '')) fail('VOLUME specified can not be an empty string');
      return { ...base(flags), kind: 'VOLUME', paths };
    }
    case 'healthcheck': {
      // HEALTHCHECK NONE ignores flags, as Docker (it never parses them).
      const none = args[0]?.toUpperCase() === 'NONE';
      const flags = none ? {} : parseFlags(node);
      return { ...base(flags), kind: 'HEALTHCHECK', check: healthcheck(node, flags, fail) };
    }
    case 'onbuild': {
      if (!node.sub) fail('ONBUILD requires at least one argument');
      const flags = parseFlags(node);
      const trigger = node.sub!.cmd.toUpperCase();
      if (trigger === 'ONBUILD') fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      return { ...base(flags), kind: 'ONBUILD', trigger: node.original.replace(/^\s*ONBUILD\s+/iu, '') };
    }
    default:
      throw parseError(line, `unknown instruction: ${NAME}`);
  }
}

function healthcheck(node: Node, flags: Flags, fail: (d: string) => never): HealthcheckSpec {
  const args = node.args;
  if (args.length === 0) fail('HEALTHCHECK requires at least one argument');
  const type = args[0].toUpperCase();
  const rest = args.slice(1);
  if (type === 'NONE') {
    if (rest.length) fail('HEALTHCHECK NONE takes no arguments');
    return { none: true };
  }
  if (type !== 'CMD') fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0) fail('Missing command after HEALTHCHECK CMD');
  const spec: HealthcheckSpec = { none: false, command: node.json ? { form: 'exec', argv: rest } : { form: 'shell', command: rest.join(' ') } };
  const durations: Array<[string, 'interval' | 'timeout' | 'startPeriod']> = [['interval', 'interval'], ['timeout', 'timeout'], ['start-period', 'startPeriod']];
  for (const [flag, field] of durations) {
    const v = flags[flag];
    if (v === undefined || v === '') continue;
    let ns: number;
    try {
      ns = parseGoDuration(v);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (ns < 1e6) fail(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
    spec[field] = v;
  }
  const retries = flags.retries;
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries)) fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n < 1) fail(`--retries must be at least 1 (not ${n})`);
    spec.retries = n;
  }
  return spec;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds ("1m30s", "1.5h", "300ms"); Go's error text. */
export function parseGoDuration(s: string): number {
  const bad = (): never => {
    throw new Error(`time: invalid duration ${JSON.stringify(s)}`);
  };
  let rest = s;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') bad();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?([^\d.]*)/u.exec(rest)!;
    if ((m[1] === '' && (m[2] === undefined || m[2] === '')) || m[0] === '') bad();
    const unit = m[3];
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(s)}`);
    const mult = DURATION_UNITS[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(s)}`);
    total += Number(`${m[1] || '0'}.${m[2] ?? ''}0`) * mult;
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}
