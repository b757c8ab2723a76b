// What tsrun, tsctl (and later tsd) share as command-line programs: a verb
// table loaded on demand, the usage text, finding the verb after the global
// flags, and turning an error into a stderr line and an exit code.
import { UsageError, type FlagSpec } from './argv.js';
import type { ErrorKind } from './errors.js';

export interface VerbEntry<C> {
  summary: string;
  /** The verb's module, imported only when it runs. */
  load: () => Promise<{ default: C }>;
}

export interface CliDefinition<C> {
  /** The program's name, the prefix of its error lines. */
  name: string;
  /** The first line of the usage text. */
  title: string;
  verbs: Record<string, VerbEntry<C>>;
  aliases: Record<string, string>;
  globalFlags: FlagSpec[];
  /** Width of the verb column in the usage text. */
  verbColumn: number;
  /** Whether `help` is listed as a command. */
  listHelp: boolean;
}

export function usageText<C>(def: CliDefinition<C>): string {
  const lines = [def.title, '', `usage: ${def.name} [global options] COMMAND [options] [arguments]`, '', 'commands:'];
  for (const [verb, v] of Object.entries(def.verbs)) lines.push(`  ${verb.padEnd(def.verbColumn)}${v.summary}`);
  if (def.listHelp) lines.push(`  ${'help'.padEnd(def.verbColumn)}show this help`);
  lines.push('', 'global options:');
  for (const f of def.globalFlags) lines.push(`  --${f.name.padEnd(15)}${f.help ?? ''}`);
  return lines.join('\n') + '\n';
}

/** The index of the verb: global flags come before it, and a string flag consumes the next word. */
export function findVerb(argv: string[], globalFlags: FlagSpec[]): number {
  const takesValue = new Set(globalFlags.filter((f) => f.kind !== 'bool').flatMap((f) => [f.name, ...(f.alias ?? [])]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return i;
    const name = a.replace(/^--?/, '');
    if (!name.includes('=') && takesValue.has(name)) i++;
  }
  return argv.length;
}

/**
 * For no verb, `help` or --help: the exit code after printing the usage
 * (1 when no verb was given at all, as runc). Undefined for a verb to run.
 */
export function helpExitCode(verb: string | undefined, helpFlag: boolean): number | undefined {
  if (verb !== undefined && verb !== 'help' && !helpFlag) return undefined;
  return verb === undefined && !helpFlag ? 1 : 0;
}

/** The verb's entry, through the aliases; an unknown verb is a usage error. */
export function verbEntry<C>(def: CliDefinition<C>, verb: string): { verb: string; entry: VerbEntry<C> } {
  const name = def.aliases[verb] ?? verb;
  const entry = def.verbs[name];
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}; see '${def.name} help'`);
  return { verb: name, entry };
}

/** Our error classes (common/errors, common/argv, spec/validateConfig): their message is for the user. */
const OUR_ERRORS = ['RuntimeError', 'ConfigError', 'UsageError'];

/** An error as the CLIs print it: the message of one of ours, else an internal error with its stack. */
export interface DescribedError {
  /** 'usage' for bad argv, the error's kind for ours, 'internal' for anything else. */
  class: 'usage' | ErrorKind | 'internal';
  /** The message, prefixed with the verb unless the error names its own step. */
  line: string;
}

export function describeError(verb: string | undefined, e: unknown): DescribedError {
  const err = e as (Error & { kind?: ErrorKind }) | undefined;
  const prefix = verb && err?.name !== 'RuntimeError' ? `${verb}: ` : '';
  if (!err || !OUR_ERRORS.includes(err.name)) return { class: 'internal', line: `${prefix}internal error: ${err?.stack ?? String(e)}` };
  return { class: err.name === 'UsageError' ? 'usage' : err.kind ?? 'system', line: `${prefix}${err.message}` };
}

/** The exit code of an error class: the program's own table, 1 for what it does not list. */
export function exitCodeOf(described: DescribedError, codes: Partial<Record<DescribedError['class'], number>>): number {
  return codes[described.class] ?? 1;
}
