// A small runc-compatible argv parser: long flags with one or two dashes,
// `--flag value` and `--flag=value`, short aliases, repeatable flags, and
// commands whose trailing words are a command line (exec, ps) rather than flags.

export type FlagKind = 'bool' | 'string' | 'list';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  alias?: string[];
  help?: string;
}

export interface ParsedArgs {
  flags: Map<string, string | boolean | string[]>;
  positionals: string[];
}

export class UsageError extends Error {
  readonly kind = 'invalid-argument' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Parses `args` against `specs`. Flag parsing stops at `--`, and also after
 * `stopAfterPositionals` positional words (exec ID CMD... keeps CMD's flags).
 */
export function parseArgs(args: string[], specs: FlagSpec[], stopAfterPositionals = Infinity): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    for (const a of s.alias ?? []) byName.set(a, s);
  }
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      i++;
      break;
    }
    if (positionals.length >= stopAfterPositionals || !arg.startsWith('-') || arg === '-') {
      if (positionals.length >= stopAfterPositionals) break;
      positionals.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`flag provided but not defined: -${name}`);
    if (spec.kind === 'bool') {
      if (eq >= 0) {
        const v = body.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError(`invalid boolean value ${JSON.stringify(v)} for -${name}`);
        flags.set(spec.name, v === 'true');
      } else flags.set(spec.name, true);
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new UsageError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (spec.kind === 'list') {
      // Appended in place: copying the list for each value made n `--env`s cost n²/2 copies.
      const prev = flags.get(spec.name);
      if (Array.isArray(prev)) prev.push(value);
      else flags.set(spec.name, [value]);
    } else flags.set(spec.name, value);
  }
  positionals.push(...args.slice(i));
  return { flags, positionals };
}

export function flagString(p: ParsedArgs, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function flagBool(p: ParsedArgs, name: string): boolean {
  return p.flags.get(name) === true;
}

export function flagList(p: ParsedArgs, name: string): string[] {
  const v = p.flags.get(name);
  return Array.isArray(v) ? v : [];
}

export function flagInt(p: ParsedArgs, name: string): number | undefined {
  const v = flagString(p, name);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`invalid value ${JSON.stringify(v)} for -${name}: not an integer`);
  return Number(v);
}
