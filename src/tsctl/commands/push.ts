import { parseArgs, flagBool, flagString, UsageError } from '../../common/argv.js';
import type { Engine, Progress } from '../../engine/engine.js';
import { checkFormat } from '../context.js';
import { progressFor } from '../progressBars.js';

/** The push's states in words (the library's are terse). */
const WORDS: Record<string, string> = { exists: 'already exists', pushed: 'pushed', mounted: 'mounted', pushing: 'pushing' };

export default async function pushCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [
    { name: 'insecure', kind: 'bool', help: 'plain HTTP to the registry (always so for localhost)' },
    { name: 'auth-file', kind: 'string', help: 'credentials file (docker config.json / containers auth.json format)' },
    { name: 'chunk-size', kind: 'string', help: 'bytes per upload request of a chunked upload (default 4 MiB; a smaller blob goes in one request)' },
    { name: 'quiet', kind: 'bool', alias: ['q'] },
    { name: 'format', kind: 'string' },
  ]);
  if (p.positionals.length < 1 || p.positionals.length > 2) throw new UsageError('usage: tsctl push IMAGE [DESTINATION]  (DESTINATION: REGISTRY/REPOSITORY[:TAG], default IMAGE)');
  const format = checkFormat(flagString(p, 'format'));
  const [source, destination = source] = p.positionals;
  const chunkText = flagString(p, 'chunk-size');
  const chunkSize = chunkText === undefined ? undefined : Number(chunkText);
  if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1024)) throw new UsageError(`--chunk-size ${JSON.stringify(chunkText)}: a whole number of bytes, at least 1024`);
  const bars = progressFor(process.stderr, flagBool(p, 'quiet') || format === 'json');
  const progress: Progress = { ...bars, status: (id, state) => { if (state !== 'waiting') bars.status(id, WORDS[state] ?? state); } };
  const result = await engine.push(source, destination, { insecure: flagBool(p, 'insecure'), authFile: flagString(p, 'auth-file'), chunkSize, progress });
  process.stdout.write(format === 'json' ? JSON.stringify(result, null, 2) + '\n' : `${result.name}: ${result.digest} size: ${result.size}\n`);
  return 0;
}
