// Execs as Docker has them: created (a config, kept in memory until the
// container goes), then started once through the container's shim (EXEC,
// then ATTACH of its id, docs/shim.md) and finished with its exit code. The
// shim keeps an exec's output in its pipe until the first ATTACH, so a
// detached exec is attached here once and drained (its output discarded), or
// a chatty one would block on a full pipe. A WAIT of the exec on a connection
// of its own records the exit even when the client went away mid-stream.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import { SHIM } from '../common/generated/shimProtocol.js';
import type { AttachSink, Attachment, Containers } from './containers.js';
import { ShimConnection, shimRequest } from './shimClient.js';

export interface ExecConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  Env: string[];
  Cmd: string[];
  WorkingDir: string;
  User: string;
  Privileged: boolean;
  /** [height, width] of the pty at start (the client's terminal), when it sent one. */
  ConsoleSize?: [number, number];
}

export interface Exec {
  ID: string;
  ContainerID: string;
  config: ExecConfig;
  Running: boolean;
  /** null until it has exited. */
  ExitCode: number | null;
  Pid: number;
  started: boolean;
}

const noSuchExec = (id: string) => new RuntimeError({ kind: 'not-found', step: `No such exec instance: ${id}` });

interface OciProcess {
  terminal?: boolean;
  consoleSize?: unknown;
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  args: string[];
  env?: string[];
  cwd: string;
  [k: string]: unknown;
}

/** `user[:group]` by number, or by name from the container's /etc/passwd and /etc/group. */
async function resolveUser(rootfs: string, spec: string, base: OciProcess['user']): Promise<OciProcess['user']> {
  if (!spec) return base;
  const [u, g] = spec.split(':', 2);
  const table = async (file: string) => {
    try {
      return (await readFile(join(rootfs, 'etc', file), 'utf8')).split('\n').map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  let uid: number, gid: number;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    gid = Number((await table('passwd')).find((f) => f[2] === u)?.[3] ?? 0);
  } else {
    const entry = (await table('passwd')).find((f) => f[0] === u);
    if (!entry) throw new RuntimeError({ kind: 'invalid-argument', step: `unable to find user ${u}: no matching entries in passwd file` });
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const entry = (await table('group')).find((f) => f[0] === g);
      if (!entry) throw new RuntimeError({ kind: 'invalid-argument', step: `unable to find group ${g}: no matching entries in group file` });
      gid = Number(entry[2]);
    }
  }
  return { uid, gid };
}

/** KEY=value lists: later keys replace earlier ones. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...base, ...extra]) out.set(e.split('=', 1)[0], e);
  return [...out.values()];
}

export class Execs {
  private readonly execs = new Map<string, Exec>();

  constructor(private readonly containers: Containers) {}

  private refuseUnlessRunning(ref: string) {
    const t = this.containers.execTarget(ref);
    if (t.record.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${t.record.Id} is not running` });
    if (t.record.State.Paused) throw new RuntimeError({ kind: 'invalid-state', step: `Container ${t.record.Id} is paused, unpause the container before exec` });
    return t;
  }

  create(ref: string, config: ExecConfig): Exec {
    const t = this.refuseUnlessRunning(ref);
    if (!config.Cmd.length) throw new RuntimeError({ kind: 'invalid-argument', step: 'No exec command specified' });
    const id = randomBytes(32).toString('hex');
    const e: Exec = { ID: id, ContainerID: t.record.Id, config, Running: false, ExitCode: null, Pid: 0, started: false };
    this.execs.set(id, e);
    this.containers.events.emit('container', `exec_create: ${config.Cmd.join(' ')}`, t.record.Id, t.attributes({ execID: id }));
    return e;
  }

  /** Drops a finished exec's record (health probes, which nobody inspects). */
  forget(id: string): void {
    this.execs.delete(id);
  }

  /** The exec, while its container exists. */
  get(id: string): Exec {
    const e = this.execs.get(id);
    if (!e) throw noSuchExec(id);
    try {
      this.containers.execTarget(e.ContainerID);
    } catch {
      this.execs.delete(id);
      throw noSuchExec(id);
    }
    return e;
  }

  /**
   * Runs the exec. Detached: it runs on with its output drained, and the
   * result has nothing to stream. Otherwise output goes to `sink` until the
   * process exited and its output is drained (`done`); ExitCode is set before
   * `done` settles.
   */
  async start(id: string, detach: boolean, sink: AttachSink): Promise<Attachment> {
    const e = this.get(id);
    if (e.started) throw new RuntimeError({ kind: 'invalid-state', step: `Error: Exec command ${id} has already run` });
    const t = this.refuseUnlessRunning(e.ContainerID);
    e.started = true;
    const c = e.config;
    const stdin = c.AttachStdin && !detach;
    try {
      const spec = JSON.parse(await readFile(join(t.bundle, 'config.json'), 'utf8')) as { process: OciProcess };
      const base = spec.process;
      const proc: OciProcess = {
        ...base,
        terminal: c.Tty,
        args: c.Cmd,
        env: mergeEnv(base.env ?? [], c.Env),
        cwd: c.WorkingDir || base.cwd,
        user: await resolveUser(join(t.bundle, 'rootfs'), c.User, base.user),
      };
      delete proc.consoleSize;
      if (c.Tty && c.ConsoleSize && c.ConsoleSize[0] > 0 && c.ConsoleSize[1] > 0) proc.consoleSize = { height: c.ConsoleSize[0], width: c.ConsoleSize[1] };
      const file = join(t.dir, `exec-${id}.json`);
      await writeFileAtomicAsync(file, JSON.stringify(proc), 0o600);
      // The runtime has read the process file once EXEC answers (or failed): it goes, so a
      // container's shim directory does not grow with every exec.
      const [pid] = await shimRequest(t.dir, [SHIM.EXEC, id, file, c.Tty ? '1' : '0', stdin ? '1' : '0']).finally(() => rm(file, { force: true }));
      e.Pid = Number(pid);
    } catch (err) {
      // As Docker: an exec that could not start has run (it is not started again), with
      // 127 when its program is not there, 126 otherwise; the caller shows the message.
      e.ExitCode = /no such file|not found/i.test((err as Error).message) ? 127 : 126;
      throw err;
    }
    e.Running = true;
    this.containers.events.emit('container', `exec_start: ${c.Cmd.join(' ')}`, t.record.Id, t.attributes({ execID: id }));
    const ended = deferred();
    const finish = (code: number) => {
      if (!e.Running) return;
      e.Running = false;
      e.ExitCode = code;
      e.Pid = 0;
      this.containers.events.emit('container', 'exec_die', t.record.Id, t.attributes({ execID: id, exitCode: String(code) }));
    };
    const waiter = ShimConnection.open(t.dir);
    void waiter.wait(id).then((x) => finish(x.code), () => finish(-1)).finally(() => waiter.close());
    const conn = ShimConnection.open(t.dir);
    const out = (stream: 1 | 2, data: Buffer) => {
      if (!detach && (stream === 1 ? c.AttachStdout : c.AttachStderr)) sink.write(stream, data);
    };
    await conn.attach(id, stdin, out, (code) => {
      if (code !== null) finish(code);
      ended.resolve();
    });
    if (detach) return { input: async () => {}, closeInput: async () => {}, detach: () => {}, done: Promise.resolve() };
    return {
      input: (data) => (stdin ? conn.send([SHIM.IN, data]) : Promise.resolve()),
      closeInput: () => (stdin ? conn.send([SHIM.CLOSEIN]).catch(() => {}) : Promise.resolve()),
      detach: () => {
        conn.close();
        ended.resolve();
      },
      // The WAIT may answer after the stream's EXIT was lost (a closed stream): the code is wanted before the end.
      done: ended.promise.then(async () => {
        for (let i = 0; i < 50 && e.Running; i++) await new Promise((r) => setTimeout(r, 20));
      }),
    };
  }

  async resize(id: string, cols: number, rows: number): Promise<void> {
    const e = this.get(id);
    // As dockerd: a stopped container first (getExecConfig), and a process without a pty has nothing to resize (200).
    const c = this.containers.execTarget(e.ContainerID).record;
    if (c.State.Status !== 'running') throw new RuntimeError({ kind: 'invalid-state', step: `Container ${c.Id} is not running` });
    if (!e.Running) throw new RuntimeError({ kind: 'invalid-state', step: `Exec ${id} is not running` });
    if (!e.config.Tty) return;
    await shimRequest(this.containers.execTarget(e.ContainerID).dir, [SHIM.RESIZE, id, String(cols), String(rows)]);
  }
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
