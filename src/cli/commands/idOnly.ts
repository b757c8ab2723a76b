import { parseArgs, UsageError, type FlagSpec, type ParsedArgs } from '../../common/argv.js';

/** Parses `VERB [flags] ID`, the shape of most verbs. */
export function parseIdArgs(args: string[], flags: FlagSpec[] = [], extraPositionals = 0): { id: string; rest: string[]; parsed: ParsedArgs } {
  const parsed = parseArgs(args, flags);
  const n = parsed.positionals.length;
  if (n < 1 || n > 1 + extraPositionals) throw new UsageError(n < 1 ? 'a container id is required' : `too many arguments: ${parsed.positionals.slice(1 + extraPositionals).join(' ')}`);
  return { id: parsed.positionals[0], rest: parsed.positionals.slice(1), parsed };
}
