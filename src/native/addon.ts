// Typed access to the N-API addon and the path of the native helper, both
// built by node-gyp into build/Release. Loaded lazily: verbs that need no
// syscall beyond Node's (state, list, spec) never pay for it.
import { createRequire } from 'node:module';
import { nativeBuildDir, selfPath } from '../common/selfPath.js';
import { join } from 'node:path';

export interface WaitStatus {
  pid: number;
  exitCode?: number;
  signal?: number;
}

/** A seccomp profile with actions and operators already as libseccomp numbers. */
export interface SeccompProgramSpec {
  defaultAction: number;
  architectures: string[];
  rules: Array<{ names: string[]; action: number; args: Array<{ index: number; op: number; value: string; valueTwo: string }> }>;
}

export interface Addon {
  spawnInit(helperPath: string, plan: Buffer, preserveFds: number, consoleFd: number): { pid: number; sock: number };
  /** One message; an fd that came with it (SCM_RIGHTS) is set as `fd` on the Buffer. */
  recv(fd: number, timeoutMs: number): (Buffer & { fd?: number }) | null;
  sendWithFd(sock: number, data: Buffer, fd: number): void;
  /** A sealed memfd holding `data` (close-on-exec). */
  sealedMemfd(name: string, data: Buffer): number;
  send(fd: number, data: Buffer): void;
  waitPid(pid: number, nohang: boolean): WaitStatus;
  waitPidAsync(pid: number): Promise<WaitStatus>;
  flock(fd: number, exclusive: boolean, nonblock: boolean): void;
  connectUnix(path: string): number;
  socketPair(): [number, number];
  kill(pid: number, signal: number): void;
  /** Signals pid only while it is the process that started at startTime (through a pidfd); ESRCH otherwise. */
  killSame(pid: number, startTime: string, signal: number): void;
  setWinsize(fd: number, rows: number, cols: number): void;
  mkfifo(path: string, mode: number): void;
  compileSeccomp(profile: SeccompProgramSpec): { bpf: Buffer; skipped: string[] };
  /** Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (struct bpf_insn array, see `encodeBpfProgram`) and attaches it to the cgroup. */
  attachDeviceFilter(cgroupDir: string, program: Buffer): void;
  seccompVersion(): string;
  /** mode carries the file type (S_IFCHR, S_IFBLK, S_IFIFO); the umask is not applied. */
  mknod(path: string, mode: number, major: number, minor: number): void;
  lsetxattr(path: string, name: string, value: Buffer): void;
  lgetxattr(path: string, name: string): Buffer | null;
  mount(source: string, target: string, fstype: string, flags: number, data: string): void;
  umount(target: string, flags: number): void;
  /** A non-blocking SOCK_SEQPACKET connection to the unix socket at `path`. */
  seqpacketConnect(path: string): number;
  /** Watches `fd` on the event loop: one call per message, null once at EOF. Owns the fd; the result closes it. */
  seqpacketWatch(fd: number, onMessage: (msg: Buffer | null) => void): () => void;
  /** One message without blocking; false when the socket's buffer is full. */
  seqpacketSend(fd: number, data: Buffer): boolean;
}

const self = selfPath(import.meta.url);
const buildDir = nativeBuildDir();

let loaded: Addon | undefined;

export function addon(): Addon {
  if (!loaded) loaded = createRequire(self)(join(buildDir, 'tsrun.node')) as Addon;
  return loaded;
}

export const helperPath = join(buildDir, 'tsrun-init');

/** Receives one message that must carry an fd (SCM_RIGHTS), and returns the fd. */
export function recvFd(sock: number, timeoutMs: number): number {
  const msg = addon().recv(sock, timeoutMs);
  if (!msg || msg.fd === undefined) throw Object.assign(new Error('EBADMSG: no file descriptor in the message, recvmsg'), { code: 'EBADMSG', syscall: 'recvmsg' });
  return msg.fd;
}
