import { flagBool, flagList, flagString, parseArgs, UsageError } from '../../common/argv.js';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { buildDirectory } from '../../engine/build.js';
import type { Engine } from '../../engine/engine.js';

/** KEY=VALUE flags as a map; a bare KEY takes the value from the environment (as docker build --build-arg). */
function pairs(list: string[], flag: string, fromEnv: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq === 0) throw new UsageError(`--${flag} ${JSON.stringify(kv)}: want KEY=VALUE`);
    if (eq < 0) {
      if (!fromEnv) throw new UsageError(`--${flag} ${JSON.stringify(kv)}: want KEY=VALUE`);
      if (process.env[kv] !== undefined) out[kv] = process.env[kv]!;
    } else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

export default async function buildCommand(args: string[], engine: Engine): Promise<number> {
  const p = parseArgs(args, [
    { name: 'tag', kind: 'list', alias: ['t'], help: 'name the image (repeatable)' },
    { name: 'file', kind: 'string', alias: ['f'], help: 'the Dockerfile, relative to the context (default Dockerfile)' },
    { name: 'build-arg', kind: 'list', help: 'KEY=VALUE for an ARG (KEY alone: from the environment)' },
    { name: 'label', kind: 'list', help: 'KEY=VALUE label on the image' },
    { name: 'target', kind: 'string', help: 'the stage to build' },
    { name: 'no-cache', kind: 'bool', help: 'run every step again' },
    { name: 'pull', kind: 'bool', help: 'pull the base images even when present' },
    { name: 'network', kind: 'string', help: 'none (default) or host, for RUN steps' },
    { name: 'rm', kind: 'string', help: 'remove the step containers after a successful step (default true)' },
    { name: 'force-rm', kind: 'bool', help: 'and after a failed one' },
    { name: 'quiet', kind: 'bool', alias: ['q'], help: 'print only the image ID' },
    { name: 'iidfile', kind: 'string', help: 'write the image ID to this file' },
  ]);
  if (p.positionals.length !== 1) throw new UsageError('usage: tsctl build [-t NAME]... [-f Dockerfile] [--build-arg K=V]... DIR');
  const rm = flagString(p, 'rm');
  if (rm !== undefined && rm !== 'true' && rm !== 'false') throw new UsageError(`--rm ${JSON.stringify(rm)}: true or false`);
  const quiet = flagBool(p, 'quiet');
  const id = await buildDirectory(engine, p.positionals[0], {
    dockerfile: flagString(p, 'file'),
    tags: flagList(p, 'tag'),
    buildArgs: pairs(flagList(p, 'build-arg'), 'build-arg', true),
    labels: pairs(flagList(p, 'label'), 'label', false),
    target: flagString(p, 'target'),
    noCache: flagBool(p, 'no-cache'),
    pull: flagBool(p, 'pull'),
    networkMode: flagString(p, 'network'),
    rm: rm !== 'false',
    forceRm: flagBool(p, 'force-rm'),
    output: (text) => { if (!quiet) process.stdout.write(text); },
  });
  const iidfile = flagString(p, 'iidfile');
  if (iidfile) writeFileAtomic(iidfile, id);
  if (quiet) process.stdout.write(`${id}\n`);
  return 0;
}
