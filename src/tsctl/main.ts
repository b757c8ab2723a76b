// tsctl: images into containers. pull/import/export images, see and remove
// them, make bundles and run containers with any runc-compatible runtime
// (tsrun by default). Works in-process on a local data root.
import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import { parseArgs, flagBool, flagString, UsageError } from '../common/argv.js';
import { TSCTL_GLOBAL_FLAGS, defaultRuntime, type TsctlGlobals } from './context.js';

export type TsctlCommand = (args: string[], g: TsctlGlobals) => Promise<number>;

const VERBS: Record<string, { summary: string; load: () => Promise<{ default: TsctlCommand }> }> = {
  pull: { summary: 'pull an image from a registry: NAME[:TAG|@DIGEST]', load: () => import('./commands/pull.js') },
  import: { summary: 'import an OCI image layout (dir or tar) or a docker save tar', load: () => import('./commands/import.js') },
  export: { summary: 'write images to an OCI layout + docker archive tar: export FILE IMAGE...', load: () => import('./commands/export.js') },
  images: { summary: 'list images', load: () => import('./commands/images.js') },
  rmi: { summary: 'remove images (and content nothing else uses)', load: () => import('./commands/rmi.js') },
  bundle: { summary: 'make an OCI bundle of an image: bundle IMAGE DIR', load: () => import('./commands/bundle.js') },
  run: { summary: 'run a container of an image: run IMAGE [COMMAND...]', load: () => import('./commands/run.js') },
  ps: { summary: 'list containers made by bundle or run', load: () => import('./commands/ps.js') },
  rm: { summary: 'remove containers: their rootfs, writable layer and bundle', load: () => import('./commands/rm.js') },
  prune: { summary: 'remove content, layers and leftovers no image or container uses', load: () => import('./commands/prune.js') },
  system: { summary: 'system df: disk used by images, shared and unique layers', load: () => import('./commands/system.js') },
};
const ALIASES: Record<string, string> = { ls: 'images', rmi: 'rmi', containers: 'ps' };

function usage(): string {
  const lines = ['tsctl: images and containers for tsrun', '', 'usage: tsctl [global options] COMMAND [options] [arguments]', '', 'commands:'];
  for (const [verb, v] of Object.entries(VERBS)) lines.push(`  ${verb.padEnd(9)}${v.summary}`);
  lines.push('', 'global options:');
  for (const f of TSCTL_GLOBAL_FLAGS) lines.push(`  --${f.name.padEnd(15)}${f.help ?? ''}`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  let verb: string | undefined;
  try {
    let i = 0;
    const valued = new Set(TSCTL_GLOBAL_FLAGS.filter((f) => f.kind !== 'bool').map((f) => f.name));
    for (; i < argv.length && argv[i].startsWith('-'); i++) if (!argv[i].includes('=') && valued.has(argv[i].replace(/^--?/, ''))) i++;
    const globals = parseArgs(argv.slice(0, i), TSCTL_GLOBAL_FLAGS);
    const g: TsctlGlobals = {
      root: flagString(globals, 'root') ?? process.env.TSCTL_ROOT ?? '/var/lib/tsrun',
      snapshotter: flagString(globals, 'snapshotter'),
      runtime: flagString(globals, 'runtime') ?? defaultRuntime(),
      runtimeRoot: flagString(globals, 'runtime-root') ?? DEFAULT_RUNTIME_ROOT,
      stateDir: flagString(globals, 'state-dir') ?? '/run/tsctl',
      mirrors: flagString(globals, 'mirror') ?? process.env.TSCTL_MIRRORS,
    };
    if (flagBool(globals, 'version')) {
      const { version, commit } = await import('../spec/generated/buildInfo.js');
      process.stdout.write(`tsctl version ${version}\ncommit: ${commit}\n`);
      return 0;
    }
    verb = argv[i];
    if (verb === undefined || verb === 'help' || flagBool(globals, 'help')) {
      process.stdout.write(usage());
      return verb === undefined && !flagBool(globals, 'help') ? 1 : 0;
    }
    verb = ALIASES[verb] ?? verb;
    const entry = VERBS[verb];
    if (!entry) throw new UsageError(`unknown command ${JSON.stringify(verb)}; see 'tsctl help'`);
    return await (await entry.load()).default(argv.slice(i + 1), g);
  } catch (e) {
    const err = e as Error;
    const known = err && ['RuntimeError', 'UsageError'].includes(err.name);
    process.stderr.write(`tsctl: ${verb && err?.name !== 'RuntimeError' ? `${verb}: ` : ''}${known ? err.message : `internal error: ${err?.stack ?? String(e)}`}\n`);
    return known && err.name === 'UsageError' ? 2 : 1;
  }
}
