// The features document (features.md): what this build of tsrun really supports.
import { addon } from '../native/addon.js';
import { ARCHES } from '../linux/seccomp.js';
import { CAPABILITIES, NAMESPACE_FLAGS } from '../linux/constants.js';
import { SPEC_VERSION } from '../spec/version.js';

export function featuresDocument(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'loud', 'mand',
      'noatime', 'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid',
      'nosymfollow', 'private', 'rbind', 'idmap', 'ridmap', 'tmpcopyup', 'relatime', 'remount', 'ro', 'rprivate', 'rshared', 'rslave',
      'runbindable', 'rw', 'shared', 'silent', 'slave', 'strictatime', 'suid', 'symfollow', 'sync', 'unbindable',
    ],
    linux: {
      namespaces: Object.keys(NAMESPACE_FLAGS),
      capabilities: CAPABILITIES,
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_LE', 'SCMP_CMP_LT', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_NE'],
        archs: Object.keys(ARCHES),
        knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      },
      // Supported by this runtime: applied where the kernel has AppArmor (apparmor.ts).
      apparmor: { enabled: true },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      'org.opencontainers.runtime-spec.features.tsrun.process-model': 'native helper (tsrun-init) from a sealed memfd',
    },
  };
}

/** libseccomp's version as the addon was built against, for --version; 'unavailable' without the addon. */
export function libseccompVersion(): string {
  try {
    return addon().seccompVersion();
  } catch {
    return 'unavailable';
  }
}
