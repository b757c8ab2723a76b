// tsctl: images into containers. pull/import/export images, see and remove
// them, make bundles and run containers with any runc-compatible runtime
// (tsrun by default). Works in-process on a local data root.
import { parseArgs, flagBool } from '../common/argv.js';
import { describeError, exitCodeOf, findVerb, helpExitCode, usageText, verbEntry, type CliDefinition, type VerbEntry } from '../common/cliKit.js';
import type { Engine } from '../engine/engine.js';
import { buildInfo } from '../engine/version.js';
import { TSCTL_GLOBAL_FLAGS, openEngine } from './context.js';

export type TsctlCommand = (args: string[], engine: Engine) => Promise<number>;

const VERBS: Record<string, VerbEntry<TsctlCommand>> = {
  pull: { summary: 'pull an image from a registry: NAME[:TAG|@DIGEST]', load: () => import('./commands/pull.js') },
  push: { summary: 'push an image to a registry: push IMAGE [DESTINATION]', load: () => import('./commands/push.js') },
  build: { summary: 'build an image from a Dockerfile: build [-t NAME] DIR', load: () => import('./commands/build.js') },
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

const TSCTL: CliDefinition<TsctlCommand> = {
  name: 'tsctl',
  title: 'tsctl: images and containers for tsrun',
  verbs: VERBS,
  aliases: { ls: 'images', containers: 'ps' },
  globalFlags: TSCTL_GLOBAL_FLAGS,
  verbColumn: 9,
  listHelp: false,
};

export async function main(argv: string[]): Promise<number> {
  let verb: string | undefined;
  try {
    const i = findVerb(argv, TSCTL_GLOBAL_FLAGS);
    const globals = parseArgs(argv.slice(0, i), TSCTL_GLOBAL_FLAGS);
    if (flagBool(globals, 'version')) {
      const { version, commit } = await buildInfo();
      process.stdout.write(`tsctl version ${version}\ncommit: ${commit}\n`);
      return 0;
    }
    verb = argv[i];
    const helpCode = helpExitCode(verb, flagBool(globals, 'help'));
    if (helpCode !== undefined) {
      process.stdout.write(usageText(TSCTL));
      return helpCode;
    }
    const found = verbEntry(TSCTL, verb!);
    verb = found.verb;
    return await (await found.entry.load()).default(argv.slice(i + 1), openEngine(globals));
  } catch (e) {
    const described = describeError(verb, e);
    process.stderr.write(`tsctl: ${described.line}\n`);
    return exitCodeOf(described, { usage: 2 });
  }
}
