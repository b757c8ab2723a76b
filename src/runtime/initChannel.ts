// The runtime's side of the sync socket to tsrun-init: spawning the helper
// with its plan, the GO messages that release each stage, and the answers
// (PID, READY, SECCOMPFD, or an ERR record that becomes a RuntimeError).
// The helper and the init read EOF and exit if tsrun dies, so no wait here
// outlives a dead peer; the timeout only bounds a hung one.
import { closeSync } from 'node:fs';
import { decodeMessage, encodeMessage, encodePlan, type PlanStep } from '../linux/planCodec.js';
import { addon, helperPath } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';
import { SYNC, SYNC_ARITY, SYNC_WORD } from '../linux/generated/protocol.js';

const HELPER_TIMEOUT_MS = 120_000;

export interface HelperMessage {
  fields: string[];
  /** An fd that came with the message (SCM_RIGHTS). */
  fd?: number;
}

/** Spawns tsrun-init (from a sealed memfd) with the plan; returns stage 1's pid and the sync socket. */
export function spawnHelper(steps: PlanStep[], preserveFds: number, consoleFd: number): { pid: number; sock: number } {
  return addon().spawnInit(helperPath, encodePlan(steps), preserveFds, consoleFd);
}

/** Releases the stage that waits on the socket. */
export function sendGo(sock: number): void {
  addon().send(sock, encodeMessage([SYNC.GO]));
}

/** GO with the state documents the in-container hooks read, in a sealed memfd (any size). */
export function sendGoWithStates(sock: number, states: string[]): void {
  const memfd = addon().sealedMemfd('tsrun-states', encodeMessage(states));
  try {
    addon().sendWithFd(sock, encodeMessage([SYNC.GO, SYNC_WORD.STATES]), memfd);
  } finally {
    closeSync(memfd);
  }
}

/** The helper's ERR record (step, syscall, errno, path, pointer, detail) as a RuntimeError. */
export function errorFromRecord(msg: string[]): RuntimeError {
  // Field positions as the declaration names them (addon/protocol.def).
  const field = (name: (typeof SYNC_ARITY.ERR.args)[number]) => msg[1 + SYNC_ARITY.ERR.args.indexOf(name)] || undefined;
  const step = field('step') ?? '';
  const [syscall, errno, path, pointer, detail] = (['syscall', 'errno', 'path', 'pointer', 'detail'] as const).map(field);
  return new RuntimeError({ step, syscall, errno, path, pointer, detail });
}

/** One message, or null at EOF (the peer exited, or exec'd: the socket is close-on-exec). `step` names the wait in errors. */
export function receiveMessage(sock: number, step: string): HelperMessage | null {
  let buf: (Buffer & { fd?: number }) | null;
  try {
    buf = addon().recv(sock, HELPER_TIMEOUT_MS);
  } catch (e) {
    throw RuntimeError.fromSystem(step, e);
  }
  if (!buf) return null;
  const fields = decodeMessage(buf);
  if (fields[0] === SYNC.ERR) throw errorFromRecord(fields);
  return { fields, fd: buf.fd };
}

/** Receives one message from the helper; EOF is an error. */
export function receive(sock: number, waitingFor: string): string[] {
  const step = `wait for the container init (${waitingFor})`;
  const msg = receiveMessage(sock, step);
  if (!msg) throw new RuntimeError({ step, detail: 'the init exited without reporting' });
  return msg.fields;
}

/** Stage 1's answer to GO: the pid of the process it cloned. */
export function receivePid(sock: number): number {
  const fields = receive(sock, 'clone');
  const pid = Number(fields[1]);
  if (fields[0] !== SYNC.PID || !Number.isInteger(pid) || pid <= 0)
    throw new RuntimeError({ step: 'wait for the container init (clone)', detail: `expected ${SYNC.PID} <pid>, got ${JSON.stringify(fields.join(' '))}` });
  return pid;
}

/** create: receives until READY, passing a seccomp notify fd on the way to `onSeccompFd`. */
export function receiveReady(sock: number, onSeccompFd: (fd: number) => void): void {
  const step = 'wait for the container init (ready)';
  for (;;) {
    const msg = receiveMessage(sock, step);
    if (!msg) throw new RuntimeError({ step, detail: 'the init exited without reporting' });
    if (msg.fields[0] === SYNC.SECCOMPFD && msg.fd !== undefined) {
      onSeccompFd(msg.fd);
      continue;
    }
    if (msg.fields[0] === SYNC.READY) return;
    throw new RuntimeError({ step, detail: `unexpected message ${msg.fields[0]}` });
  }
}

/**
 * exec: receives until the EOF that the process's execve causes (it runs),
 * passing a seccomp notify fd on the way to `onSeccompFd`; an ERR record
 * means it failed. `step` names the exec in errors.
 */
export function receiveUntilExec(sock: number, step: string, onSeccompFd: (fd: number) => void): void {
  for (;;) {
    const msg = receiveMessage(sock, step);
    if (!msg) return;
    if (msg.fields[0] === SYNC.SECCOMPFD && msg.fd !== undefined) {
      onSeccompFd(msg.fd);
      continue;
    }
    throw new RuntimeError({ step, detail: `unexpected message ${msg.fields[0]}` });
  }
}
