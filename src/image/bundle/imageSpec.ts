// An OCI config for a container of an image, the way containerd builds one:
// its default spec (capabilities, mounts, masked paths, namespaces, rlimits)
// with args = Entrypoint + Cmd, Env (PATH added when missing), WorkingDir and
// User from the image config; Volumes, ExposedPorts and StopSignal kept as
// annotations for whoever runs it.
import { DEFAULT_PATH } from '../../spec/defaultSpec.js';
import type { Spec } from '../../spec/types.js';
import { SPEC_VERSION } from '../../spec/version.js';
import { defaultSpec } from '../../spec/defaultSpec.js';
import { RuntimeError } from '../../common/errors.js';
import type { ImageConfig } from '../mediaTypes.js';
import { resolveUser } from './userLookup.js';


// containerd's default capability set (oci.WithDefaultSpec).
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export interface ContainerOptions {
  id: string;
  imageName: string;
  /** Replaces the image's Cmd. */
  args?: string[];
  /** Replaces the image's Entrypoint (and drops its Cmd, as docker does). */
  entrypoint?: string[];
  /** KEY=VALUE, overriding the image's. */
  env?: string[];
  user?: string;
  cwd?: string;
  terminal?: boolean;
  /** Share the host's network namespace. */
  hostNetwork?: boolean;
  readonlyRootfs?: boolean;
  /** cgroupsPath parent (default /tsctl). */
  cgroupParent?: string;
  /** Default: the id's first 63 characters. */
  hostname?: string;
  /** Added after the default mounts (bind mounts of the caller's). */
  mounts?: NonNullable<Spec['mounts']>;
  /** The caller's last word on the config before it is written (a daemon's resources and security options). */
  adjust?: (spec: Spec) => Spec;
}

function mergeEnv(base: string[], overrides: string[]): string[] {
  const out = new Map<string, string>();
  for (const kv of [...base, ...overrides]) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), kv);
  }
  return [...out.values()];
}

export function specFromImage(image: ImageConfig, rootfs: string, o: ContainerOptions): Spec {
  const c = image.config ?? {};
  const entrypoint = o.entrypoint ?? c.Entrypoint ?? [];
  const cmd = o.args?.length ? o.args : o.entrypoint ? [] : (c.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (!args.length) throw new RuntimeError({ step: 'build container config', detail: `image ${o.imageName} has no Entrypoint or Cmd; give a command` });
  const user = resolveUser(rootfs, o.user ?? c.User);
  let env = c.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) env = [`PATH=${DEFAULT_PATH}`, ...env];
  env = mergeEnv(env, [...(o.terminal ? ['TERM=xterm'] : []), ...(user.home && !env.some((e) => e.startsWith('HOME=')) ? [`HOME=${user.home}`] : []), ...(o.env ?? [])]);
  const annotations: Record<string, string> = { 'org.opencontainers.image.ref.name': o.imageName, 'io.tsrun.image.name': o.imageName };
  if (c.Volumes && Object.keys(c.Volumes).length) annotations['io.tsrun.image.volumes'] = JSON.stringify(Object.keys(c.Volumes));
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) annotations['io.tsrun.image.exposed-ports'] = JSON.stringify(Object.keys(c.ExposedPorts));
  if (c.StopSignal) annotations['org.opencontainers.image.stopSignal'] = c.StopSignal;
  // runc's default mounts and paths (src/spec/defaultSpec.ts) with containerd's
  // differences: no cgroup mount, a /run tmpfs, one more masked path.
  const base = defaultSpec();
  const mounts = [
    ...base.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup'),
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    ...(o.mounts ?? []),
  ];
  const namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, ...(o.hostNetwork ? [] : [{ type: 'network' }])] as NonNullable<Spec['linux']>['namespaces'];
  return {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: !!o.terminal,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids ? { additionalGids: user.additionalGids } : {}) },
      args,
      env,
      cwd: o.cwd ?? (c.WorkingDir || '/'),
      capabilities: { bounding: [...DEFAULT_CAPS], effective: [...DEFAULT_CAPS], permitted: [...DEFAULT_CAPS] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    },
    root: { path: 'rootfs', readonly: !!o.readonlyRootfs },
    hostname: o.hostname ?? o.id.slice(0, 63),
    mounts,
    annotations,
    linux: {
      cgroupsPath: `${o.cgroupParent ?? '/tsctl'}/${o.id}`,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: [...base.linux!.maskedPaths!, '/sys/devices/virtual/powercap'],
      readonlyPaths: base.linux!.readonlyPaths,
    },
  } as Spec;
}
