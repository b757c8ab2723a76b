// The builder's entry to the Dockerfile parser. An interim parser of the
// common syntax until dockerfile.ts (the parser proper, written beside this
// builder) is merged; then this file only re-exports it.
import { RuntimeError } from '../../common/errors.js';
import type { CommandForm, Dockerfile, Flags, HealthcheckSpec, Instruction, Stage } from './instructions.js';

const parseError = (line: number, message: string) => new RuntimeError({ kind: 'invalid-argument', step: `dockerfile parse error line ${line}: ${message}` });

/** Words split on whitespace, quotes kept together (and removed), as ENV/LABEL read them. */
function splitWords(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (cur || any) out.push(cur);
  return out;
}

function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

function command(rest: string): CommandForm {
  const argv = jsonArray(rest);
  return argv ? { form: 'exec', argv } : { form: 'shell', command: rest };
}

function takeFlags(rest: string): { flags: Flags; rest: string } {
  const flags: Flags = {};
  let r = rest;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(r); m; m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(r)) {
    flags[m[1]] = m[2] ?? 'true';
    r = r.slice(m[0].length);
  }
  return { flags, rest: r };
}

function pairs(rest: string, kind: string, line: number): Array<{ key: string; value: string }> {
  const words = splitWords(rest);
  if (!words.length) throw parseError(line, `${kind} requires at least one argument`);
  if (!words[0].includes('=')) {
    if (kind === 'LABEL') throw parseError(line, 'LABEL requires key=value');
    const m = /^(\S+)\s+(.*)$/s.exec(rest.trim());
    if (!m) throw parseError(line, `${kind} must have two arguments`);
    return [{ key: m[1], value: splitWords(m[2]).join(' ') }];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw parseError(line, `${kind} names can not be blank`);
    return { key: w.slice(0, i), value: w.slice(i + 1) };
  });
}

function instruction(word: string, rest: string, line: number, original: string): Instruction {
  const kind = word.toUpperCase();
  const { flags, rest: args } = takeFlags(rest);
  const base = { loc: { line, column: 1 }, original, flags };
  const need = () => {
    if (!args.trim()) throw parseError(line, `${kind} requires at least one argument`);
  };
  switch (kind) {
    case 'FROM': {
      need();
      const w = args.trim().split(/\s+/);
      if (w.length === 3 && w[1].toLowerCase() === 'as') return { ...base, kind, image: w[0], stageName: w[2].toLowerCase() };
      if (w.length !== 1) throw parseError(line, 'FROM requires either one or three arguments');
      return { ...base, kind, image: w[0] };
    }
    case 'RUN': case 'CMD': case 'ENTRYPOINT':
      need();
      return { ...base, kind, command: command(args.trim()) };
    case 'SHELL': {
      const argv = jsonArray(args.trim());
      if (!argv) throw parseError(line, 'SHELL requires the arguments to be in JSON form');
      return { ...base, kind, argv };
    }
    case 'COPY': case 'ADD': {
      const list = jsonArray(args.trim()) ?? splitWords(args);
      if (list.length < 2) throw parseError(line, `${kind} requires at least two arguments, but only one was provided. Destination could not be determined.`);
      return { ...base, kind, sources: list.slice(0, -1), dest: list[list.length - 1] };
    }
    case 'ENV': case 'LABEL':
      return { ...base, kind, pairs: pairs(args, kind, line) };
    case 'ARG': {
      need();
      return { ...base, kind, args: splitWords(args).map((w) => (w.includes('=') ? { name: w.slice(0, w.indexOf('=')), default: w.slice(w.indexOf('=') + 1) } : { name: w })) };
    }
    case 'WORKDIR': need(); return { ...base, kind, path: args.trim() };
    case 'USER': need(); return { ...base, kind, user: args.trim() };
    case 'EXPOSE': need(); return { ...base, kind, ports: args.trim().split(/\s+/) };
    case 'VOLUME': need(); return { ...base, kind, paths: jsonArray(args.trim()) ?? args.trim().split(/\s+/) };
    case 'STOPSIGNAL': need(); return { ...base, kind, signal: args.trim() };
    case 'MAINTAINER': need(); return { ...base, kind, name: args.trim() };
    case 'ONBUILD': need(); return { ...base, kind, trigger: args.trim() };
    case 'HEALTHCHECK': {
      const t = args.trim();
      if (t.toUpperCase() === 'NONE') return { ...base, kind, check: { none: true } };
      const m = /^CMD\s+(.*)$/is.exec(t);
      if (!m) throw parseError(line, 'Unknown type"' + t.split(/\s+/)[0] + '" in HEALTHCHECK (try CMD)');
      const check: HealthcheckSpec = { none: false, command: command(m[1].trim()), interval: flags.interval, timeout: flags.timeout, startPeriod: flags['start-period'], ...(flags.retries ? { retries: Number(flags.retries) } : {}) };
      return { ...base, kind, check };
    }
    default:
      throw parseError(line, `unknown instruction: ${kind}`);
  }
}

export function parseDockerfileText(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  let escape = '\\';
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$/.exec(lines[i]);
    if (!m) break;
    directives[m[1].toLowerCase()] = m[2];
    if (m[1].toLowerCase() === 'escape') escape = m[2];
  }
  const metaArgs: Array<Instruction & { kind: 'ARG' }> = [];
  const stages: Stage[] = [];
  for (; i < lines.length; i++) {
    const start = i + 1;
    let l = lines[i];
    if (/^\s*(#|$)/.test(l)) continue;
    let joined = '';
    while (l.trimEnd().endsWith(escape) && i + 1 < lines.length) {
      joined += l.trimEnd().slice(0, -1);
      i++;
      l = lines[i];
      while (/^\s*#/.test(l) && i + 1 < lines.length) l = lines[++i];
    }
    joined += l;
    const m = /^\s*(\S+)\s*(.*)$/s.exec(joined);
    if (!m) continue;
    const original = `${m[1].toUpperCase()} ${m[2].trim()}`.trim();
    const ins = instruction(m[1], m[2], start, original);
    if (ins.kind === 'FROM') stages.push({ index: stages.length, ...(ins.stageName ? { name: ins.stageName } : {}), from: ins, instructions: [] });
    else if (!stages.length) {
      if (ins.kind !== 'ARG') throw parseError(start, `${ins.kind} before FROM: no build stage in current context`);
      metaArgs.push(ins);
    } else stages[stages.length - 1].instructions.push(ins);
  }
  if (!stages.length) throw new RuntimeError({ kind: 'invalid-argument', step: 'the Dockerfile (Dockerfile) cannot be empty' });
  return { directives, metaArgs, stages };
}
