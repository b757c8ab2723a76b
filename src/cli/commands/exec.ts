import { readFileSync } from 'node:fs';
import { flagBool, flagInt, flagList, flagString, parseArgs, UsageError } from '../../common/argv.js';
import type { GlobalOptions } from '../globals.js';
import { writeLog } from '../log.js';
import type { Process } from '../../spec/types.js';
import { RuntimeError } from '../../common/errors.js';
import { inheritedFdOptions } from '../inheritedFds.js';

const FLAGS = [
  { name: 'console-socket', kind: 'string' as const },
  { name: 'cwd', kind: 'string' as const },
  { name: 'env', kind: 'list' as const, alias: ['e'] },
  { name: 'tty', kind: 'bool' as const, alias: ['t'] },
  { name: 'user', kind: 'string' as const, alias: ['u'] },
  { name: 'additional-gids', kind: 'list' as const, alias: ['g'] },
  { name: 'process', kind: 'string' as const, alias: ['p'] },
  { name: 'detach', kind: 'bool' as const, alias: ['d'] },
  { name: 'pid-file', kind: 'string' as const },
  { name: 'process-label', kind: 'string' as const },
  { name: 'apparmor', kind: 'string' as const },
  { name: 'no-new-privs', kind: 'bool' as const },
  { name: 'cap', kind: 'list' as const, alias: ['c'] },
  { name: 'preserve-fds', kind: 'string' as const },
  { name: 'cgroup', kind: 'list' as const },
  { name: 'ignore-paused', kind: 'bool' as const },
];

function warn(g: GlobalOptions, w: string): void {
  process.stderr.write(`tsrun: warning: ${w}\n`);
  writeLog(g, 'warn', w);
}

function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`invalid ${what} ${JSON.stringify(text)}: tsrun takes numeric ids (engines resolve names)`);
  return Number(text);
}

/** Env with later entries replacing earlier ones of the same name. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const kv of [...base, ...extra]) byName.set(kv.split('=')[0], kv);
  return [...byName.values()];
}

export default async function exec(args: string[], g: GlobalOptions): Promise<number> {
  const p = parseArgs(args, FLAGS, 1);
  const [id, ...command] = p.positionals;
  if (!id) throw new UsageError('a container id is required');
  const { openContainer } = await import('../../runtime/open.js');
  const { validateConfigDocument } = await import('../../spec/validateConfig.js');
  const { record } = openContainer(g.root, id);

  let proc: Process;
  const processFile = flagString(p, 'process');
  if (processFile) {
    if (command.length) throw new UsageError('give either --process or a command, not both');
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(processFile, 'utf8'));
    } catch (e) {
      throw RuntimeError.fromSystem('read the process file', e, { path: processFile });
    }
    const problems = validateConfigDocument({ ociVersion: record.ociVersion, process: doc });
    if (problems.length) throw new RuntimeError({ step: 'read the process file', path: processFile, detail: problems.map((x) => `${x.field}: ${x.message}`).join('; ') });
    proc = doc as Process;
  } else {
    if (!command.length) throw new UsageError('a command to execute is required');
    const base = record.config.process!;
    proc = structuredClone({ ...base, args: command, terminal: flagBool(p, 'tty'), consoleSize: undefined });
    delete proc.consoleSize;
    proc.env = mergeEnv(base.env ?? [], flagList(p, 'env'));
    const cwd = flagString(p, 'cwd');
    if (cwd) proc.cwd = cwd;
    const user = flagString(p, 'user');
    if (user) {
      const [uid, gid] = user.split(':');
      proc.user = { ...proc.user, uid: parseId(uid, 'uid'), gid: gid !== undefined ? parseId(gid, 'gid') : 0 };
    }
    const gids = flagList(p, 'additional-gids');
    if (gids.length) proc.user.additionalGids = gids.map((x) => parseId(x, 'gid'));
    if (flagBool(p, 'no-new-privs')) proc.noNewPrivileges = true;
    for (const cap of flagList(p, 'cap')) {
      const name = cap.toUpperCase().startsWith('CAP_') ? cap.toUpperCase() : `CAP_${cap.toUpperCase()}`;
      proc.capabilities ??= {};
      for (const set of ['bounding', 'effective', 'permitted'] as const) proc.capabilities[set] = [...new Set([...(proc.capabilities[set] ?? []), name])];
    }
  }
  const apparmor = flagString(p, 'apparmor');
  if (apparmor) proc.apparmorProfile = apparmor;
  const label = flagString(p, 'process-label');
  if (label) proc.selinuxLabel = label;
  if (flagList(p, 'cgroup').length) warn(g, '--cgroup is not supported: the process joins the container\'s own cgroup');
  const { execProcess } = await import('../../runtime/exec.js');
  const started = execProcess({
    root: g.root,
    id,
    process: proc,
    consoleSocket: flagString(p, 'console-socket'),
    detach: flagBool(p, 'detach'),
    pidFile: flagString(p, 'pid-file'),
    preserveFds: flagInt(p, 'preserve-fds') ?? 0,
    ignorePaused: flagBool(p, 'ignore-paused'),
    callerFds: inheritedFdOptions().callerFds,
    onWarning: (w) => warn(g, w),
  });
  if (!started) return 0;
  const { attachForeground } = await import('../attach.js');
  return attachForeground(started);
}
