// tsrun's entry: global flags, then the verb's module loaded on demand so that
// each verb's start-up imports only what it needs.
// First: records which fds the caller handed us before the CLI opens any (--preserve-fds).
import './inheritedFds.js';
import { parseArgs, flagBool, flagString, UsageError } from '../common/argv.js';
import { describeError, exitCodeOf, findVerb, helpExitCode, usageText, verbEntry, type CliDefinition, type VerbEntry } from '../common/cliKit.js';
import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import { GLOBAL_FLAGS, type GlobalOptions } from './globals.js';
import { writeLog } from './log.js';

export type Command = (args: string[], g: GlobalOptions) => Promise<number> | number;

const VERBS: Record<string, VerbEntry<Command>> = {
  create: { summary: 'create a container', load: () => import('./commands/create.js') },
  start: { summary: 'start the user process of a created container', load: () => import('./commands/start.js') },
  run: { summary: 'create and start a container, and wait for it', load: () => import('./commands/run.js') },
  state: { summary: 'print the state of a container (JSON)', load: () => import('./commands/state.js') },
  list: { summary: 'list containers', load: () => import('./commands/list.js') },
  kill: { summary: 'send a signal to the container init (or --all processes)', load: () => import('./commands/kill.js') },
  delete: { summary: 'delete a stopped container (--force: any)', load: () => import('./commands/delete.js') },
  spec: { summary: 'write a default config.json', load: () => import('./commands/spec.js') },
  features: { summary: 'print the features document (JSON)', load: () => import('./commands/features.js') },
  exec: { summary: 'run a process in a running container', load: () => import('./commands/exec.js') },
  pause: { summary: 'freeze every process of a container', load: () => import('./commands/pause.js') },
  resume: { summary: 'thaw a paused container', load: () => import('./commands/resume.js') },
  ps: { summary: 'list the processes of a container', load: () => import('./commands/ps.js') },
  update: { summary: 'update resource limits of a container', load: () => import('./commands/update.js') },
  events: { summary: 'stream container events and stats', load: () => import('./commands/events.js') },
  checkpoint: { summary: 'checkpoint a container (not supported)', load: () => import('./commands/notImplemented.js') },
  restore: { summary: 'restore a container (not supported)', load: () => import('./commands/notImplemented.js') },
};

const TSRUN: CliDefinition<Command> = {
  name: 'tsrun',
  title: 'tsrun: an OCI container runtime',
  verbs: VERBS,
  aliases: { ls: 'list', rm: 'delete', del: 'delete' },
  globalFlags: GLOBAL_FLAGS,
  verbColumn: 11,
  listHelp: true,
};

async function printVersion(): Promise<void> {
  const { version, commit } = await import('../spec/generated/buildInfo.js');
  const { SPEC_VERSION } = await import('../spec/version.js');
  const { libseccompVersion } = await import('../runtime/features.js');
  const seccomp = libseccompVersion();
  process.stdout.write(`tsrun version ${version}\ncommit: ${commit}\nspec: ${SPEC_VERSION}\n${engineLine()}\nlibseccomp: ${seccomp}\n`);
}

export async function main(argv: string[]): Promise<number> {
  const g: GlobalOptions = { root: DEFAULT_RUNTIME_ROOT, logFormat: 'text', debug: false, systemdCgroup: false };
  let verb: string | undefined;
  try {
    const verbIndex = findVerb(argv, GLOBAL_FLAGS);
    const globals = parseArgs(argv.slice(0, verbIndex), GLOBAL_FLAGS);
    g.root = flagString(globals, 'root') ?? g.root;
    g.log = flagString(globals, 'log');
    const format = flagString(globals, 'log-format') ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError(`invalid --log-format ${JSON.stringify(format)}: use text or json`);
    g.logFormat = format;
    g.debug = flagBool(globals, 'debug');
    g.systemdCgroup = flagBool(globals, 'systemd-cgroup');
    if (flagBool(globals, 'version')) {
      await printVersion();
      return 0;
    }
    verb = argv[verbIndex];
    const helpCode = helpExitCode(verb, flagBool(globals, 'help'));
    if (helpCode !== undefined) {
      process.stdout.write(usageText(TSRUN));
      return helpCode;
    }
    const found = verbEntry(TSRUN, verb!);
    verb = found.verb;
    const command = (await found.entry.load()).default;
    const args = argv.slice(verbIndex + 1);
    const started = performance.now();
    writeLog(g, 'debug', `${verb} started`, { args, engine: engineLine(), pid: process.pid });
    const code = await command(args, { ...g, verb } as GlobalOptions & { verb: string });
    writeLog(g, 'debug', `${verb} finished`, { code, ms: Math.round(performance.now() - started) });
    return code;
  } catch (e) {
    return reportError(g, verb, e);
  }
}

function reportError(g: GlobalOptions, verb: string | undefined, e: unknown): number {
  const err = e as Error & Record<string, unknown>;
  const described = describeError(verb, e);
  process.stderr.write(`tsrun: ${described.line}\n`);
  const fields: Record<string, unknown> = {};
  for (const k of ['step', 'syscall', 'errno', 'path', 'pointer', 'kind']) if (err?.[k] !== undefined) fields[k] = err[k];
  // Before the error line: engines (containerd's shim) report the last error line.
  if (err?.stack) writeLog(g, 'debug', 'where the error was raised', { stack: err.stack });
  writeLog(g, 'error', described.line, fields);
  // Every failure exits 1, as runc: engines read the message, not the code.
  return exitCodeOf(described, {});
}

/** Like runc's `go:` line: the engine running the CLI (bun or Node, see addon/fast/handover.c). */
function engineLine(): string {
  const bun = (process.versions as Record<string, string | undefined>).bun;
  return bun ? `bun: ${bun}` : `node: ${process.version}`;
}
