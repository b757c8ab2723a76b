// tsctl's global options and what every verb opens from them.
import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flagBool, flagString, type FlagSpec, type ParsedArgs } from '../common/argv.js';

export interface TsctlGlobals {
  /** Data root: content, snapshots, images, containers. */
  root: string;
  snapshotter?: string;
  /** The OCI runtime binary containers run with (any runc-compatible one). */
  runtime: string;
  /** The runtime's --root. */
  runtimeRoot: string;
  /** Where `run` puts bundles (mount points: ephemeral). */
  stateDir: string;
  /** Registry mirrors (--mirror / $TSCTL_MIRRORS): docker.io=127.0.0.1:5000. */
  mirrors?: string;
}

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

export const defaultRuntime = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'tsrun');

export async function openSnapshotter(g: TsctlGlobals) {
  const { openSnapshotter: open } = await import('../image/snapshots/mount.js');
  return open(g.root, g.snapshotter ?? process.env.TSCTL_SNAPSHOTTER);
}

/** What pull needs from the global options and a verb's REGISTRY_FLAGS. */
export async function pullOptions(g: TsctlGlobals, p: ParsedArgs) {
  const { parseMirrors } = await import('../image/registry/client.js');
  const { parsePlatform } = await import('../image/platform.js');
  const platform = flagString(p, 'platform');
  return {
    insecure: flagBool(p, 'insecure'),
    authFile: flagString(p, 'auth-file'),
    mirrors: parseMirrors(g.mirrors),
    platform: platform ? parsePlatform(platform) : undefined,
    onWarning: (message: string) => process.stderr.write(`tsctl: warning: ${message}\n`),
  };
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
