// tsctl's global options, the engine they open, and what verbs share to print.
import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import { flagBool, flagString, type FlagSpec, type ParsedArgs } from '../common/argv.js';
import { Engine, type PullRequest } from '../engine/engine.js';

export const TSCTL_GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', help: 'data root for content, snapshots and images (default /var/lib/tsrun)' },
  { name: 'snapshotter', kind: 'string', help: 'overlay, copy, or auto (default: overlay when the kernel has it)' },
  { name: 'runtime', kind: 'string', help: 'OCI runtime binary for run (default: tsrun)' },
  { name: 'runtime-root', kind: 'string', help: `the runtime's --root (default ${DEFAULT_RUNTIME_ROOT})` },
  { name: 'state-dir', kind: 'string', help: 'where run keeps bundles (default /run/tsctl)' },
  { name: 'mirror', kind: 'string', help: 'REGISTRY=HOST[,...]: fetch that registry\'s images from HOST, else from the registry (default $TSCTL_MIRRORS)' },
  { name: 'help', kind: 'bool', alias: ['h'], help: 'show help' },
  { name: 'version', kind: 'bool', alias: ['v'], help: 'print the version' },
];

/** The engine the global options describe; tsctl's environment fills what they leave out. */
export function openEngine(globals: ParsedArgs): Engine {
  return new Engine({
    dataRoot: flagString(globals, 'root') ?? process.env.TSCTL_ROOT ?? '/var/lib/tsrun',
    snapshotter: flagString(globals, 'snapshotter') ?? process.env.TSCTL_SNAPSHOTTER,
    runtime: flagString(globals, 'runtime'),
    runtimeRoot: flagString(globals, 'runtime-root'),
    stateDir: flagString(globals, 'state-dir') ?? '/run/tsctl',
    mirrors: flagString(globals, 'mirror') ?? process.env.TSCTL_MIRRORS,
    onWarning: (message) => process.stderr.write(`tsctl: warning: ${message}\n`),
  });
}

/** A verb's REGISTRY_FLAGS as a pull request (progress is the verb's). */
export function pullRequest(p: ParsedArgs): PullRequest {
  return { insecure: flagBool(p, 'insecure'), authFile: flagString(p, 'auth-file'), platform: flagString(p, 'platform') };
}

export const REGISTRY_FLAGS: FlagSpec[] = [
  { name: 'insecure', kind: 'bool', help: 'plain HTTP to the registry (always so for localhost)' },
  { name: 'auth-file', kind: 'string', help: 'credentials file (docker config.json / containers auth.json format)' },
  { name: 'platform', kind: 'string', help: 'os/arch[/variant] to pull (default: this machine)' },
];

/** A table with columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd()).join('\n') + '\n';
}

export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

export function checkFormat(f: string | undefined): 'table' | 'json' {
  if (f === undefined || f === 'table') return 'table';
  if (f === 'json') return 'json';
  throw Object.assign(new Error(`invalid --format ${JSON.stringify(f)}: use table or json`), { name: 'UsageError' });
}
