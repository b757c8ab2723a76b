// The runtime under test, driven only through its CLI, as an engine would.
// RUNTIME=/path/to/runtime (default: this repo's bin/tsrun). On a hybrid-cgroup
// host crun refuses to run unless /sys/fs/cgroup/unified is unmounted: every
// runtime runs inside `unshare -m` with that mount removed, the same for all.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll } from 'vitest';

export const RUNTIME = process.env.RUNTIME ?? resolve(import.meta.dirname, '../../bin/tsrun');
export const RUNTIME_NAME = basename(RUNTIME);
export const PROBE = resolve(import.meta.dirname, '../build/probe');
const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.procs') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
export const CGROUP_V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

export const ROOT = mkdtempSync(join(tmpdir(), `spec-root-${RUNTIME_NAME}-`));
// The runtime's --root and the rootfs template are this test file's own: gone after it
// (each file imports this module afresh), so no run leaves them in the temp dir.
const out = mkdtempSync(join(tmpdir(), 'spec-out-'));
afterAll(() => {
  for (const d of [ROOT, out, template]) if (d) rmSync(d, { recursive: true, force: true });
});

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the runtime with --root; stdout/stderr through files (a created container inherits them). */
export function rt(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Result {
  const o = openSync(join(out, 'o'), 'w');
  const e = openSync(join(out, 'e'), 'w');
  try {
    const inner = `${hybrid ? 'umount /sys/fs/cgroup/unified 2>/dev/null; ' : ''}exec "$0" "$@"`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', inner, RUNTIME, '--root', ROOT, ...args], { stdio: ['ignore', o, e], timeout: 60_000, env: opts.env });
    return { code: r.status ?? 128, stdout: readFileSync(join(out, 'o'), 'utf8'), stderr: readFileSync(join(out, 'e'), 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
  }
}

export type Config = Record<string, any>;

export const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** A minimal config of our own, written from config.md (not from any runtime's `spec`). */
export function baseConfig(): Config {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/probe'],
      env: ['PATH=/bin:/usr/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'spec',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/sys/firmware'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

let template: string | undefined;
function rootfsTemplate(): string {
  if (template) return template;
  template = mkdtempSync(join(tmpdir(), 'spec-rootfs-'));
  chmodSync(template, 0o755);
  for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(join(template, d));
  copyFileSync('/bin/busybox', join(template, 'bin/busybox'));
  for (const a of execFileSync('/bin/busybox', ['--list']).toString().split('\n').filter((x) => x && x !== 'busybox')) symlinkSync('busybox', join(template, 'bin', a));
  copyFileSync(PROBE, join(template, 'probe'));
  chmodSync(join(template, 'probe'), 0o755);
  writeFileSync(join(template, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  return template;
}

export interface Bundle {
  dir: string;
  config: Config;
  write(): void;
  cleanup(): void;
}

export function bundle(edit: (c: Config, dir: string) => void = () => {}): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'spec-bundle-'));
  chmodSync(dir, 0o755);
  execFileSync('cp', ['-a', rootfsTemplate(), join(dir, 'rootfs')]);
  const config = baseConfig();
  const b: Bundle = {
    dir,
    config,
    write: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(b.config, null, 2)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  edit(config, dir);
  b.write();
  return b;
}

let n = 0;
export const newId = (p = 'spec') => `${p}-${process.pid}-${++n}`;

export interface Probe {
  [key: string]: any;
}

/** Runs the probe as the container process (run = create + start + wait) and parses its report. */
export function probe(edit: (c: Config, dir: string) => void = () => {}, probeArgs: string[] = []): Probe {
  const b = bundle((c, dir) => {
    c.process.args = ['/probe', ...probeArgs];
    edit(c, dir);
  });
  try {
    const r = rt(['run', '--bundle', b.dir, newId()]);
    if (r.code !== 0) throw new Error(`${RUNTIME_NAME} run exited ${r.code}: ${r.stderr.trim()}`);
    return JSON.parse(r.stdout);
  } finally {
    b.cleanup();
  }
}

/** Runs a config expected to be refused; returns the result (the caller checks it). */
export function runExpectFailure(edit: (c: Config, dir: string) => void): Result & { leftovers: string[] } {
  const b = bundle(edit);
  try {
    const id = newId('bad');
    const r = rt(['run', '--bundle', b.dir, id]);
    const state = rt(['state', id]);
    const leftovers = state.code === 0 ? [id] : [];
    if (leftovers.length) rt(['delete', '--force', id]);
    return { ...r, leftovers };
  } finally {
    b.cleanup();
  }
}

export const hostNs = (name: string) => execFileSync('readlink', [`/proc/self/ns/${name}`]).toString().trim();
export const capMask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(CAP_BITS[n])), 0n);
const CAP_BITS: Record<string, number> = { CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7, CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_ADMIN: 21, CAP_SYS_NICE: 23, CAP_AUDIT_WRITE: 29 };
