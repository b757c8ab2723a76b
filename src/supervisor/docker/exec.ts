// /containers/{id}/exec and /exec: create, start (hijacked, or plain with
// Detach), resize, inspect — each a translation to src/engine/execs.ts.
import type { Duplex } from 'node:stream';
import type { Exec, ExecConfig } from '../../engine/execs.js';
import { BadRequest } from '../http/errors.js';
import { sendJson, type Hijack, type Request, type Router } from '../http/router.js';
import { framer, RAW_STREAM } from '../http/stream.js';
import { atoi } from './containers.js';
import type { Api } from './context.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new BadRequest(`${field}: want true or false`);
  return v;
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadRequest(`${field}: want a string`);
  return v;
}

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  throw new BadRequest(`${field}: want an array of strings`);
}

export function parseExecBody(body: unknown): ExecConfig {
  if (!isObj(body)) throw new BadRequest('request body: want a JSON object (the exec config)');
  const cmd = strings(body.Cmd, 'Cmd');
  if (!cmd.length) throw new BadRequest('Cmd: No exec command specified');
  const env = strings(body.Env, 'Env');
  const bad = env.find((e) => !e.includes('=') || e.startsWith('='));
  if (bad !== undefined) throw new BadRequest(`Env: ${JSON.stringify(bad)}: want KEY=value`);
  let consoleSize: [number, number] | undefined;
  if (body.ConsoleSize !== undefined && body.ConsoleSize !== null) {
    const cs = body.ConsoleSize;
    if (!Array.isArray(cs) || cs.length !== 2 || !cs.every((n) => Number.isInteger(n) && n >= 0 && n < 65536)) throw new BadRequest('ConsoleSize: want [height, width]');
    consoleSize = [cs[0], cs[1]];
  }
  return {
    ConsoleSize: consoleSize,
    AttachStdin: bool(body.AttachStdin, 'AttachStdin'),
    AttachStdout: bool(body.AttachStdout, 'AttachStdout'),
    AttachStderr: bool(body.AttachStderr, 'AttachStderr'),
    Tty: bool(body.Tty, 'Tty'),
    Env: env,
    Cmd: cmd,
    WorkingDir: str(body.WorkingDir, 'WorkingDir'),
    User: str(body.User, 'User'),
    Privileged: bool(body.Privileged, 'Privileged'),
  };
}

function parseStartBody(body: unknown): { detach: boolean } {
  if (body === undefined) return { detach: false };
  if (!isObj(body)) throw new BadRequest('request body: want a JSON object ({"Detach": ..., "Tty": ...})');
  bool(body.Tty, 'Tty');
  return { detach: bool(body.Detach, 'Detach') };
}

function inspectExec(e: Exec) {
  const c = e.config;
  return {
    ID: e.ID,
    Running: e.Running,
    ExitCode: e.ExitCode,
    ProcessConfig: { tty: c.Tty, entrypoint: c.Cmd[0], arguments: c.Cmd.slice(1), privileged: c.Privileged, user: c.User },
    OpenStdin: c.AttachStdin,
    OpenStderr: c.AttachStderr,
    OpenStdout: c.AttachStdout,
    CanRemove: false,
    ContainerID: e.ContainerID,
    DetachKeys: '',
    Pid: e.Pid,
  };
}

/**
 * The JSON body of a hijacked request: Node hands an upgrade over with the
 * body unread, in `head` and what follows on the socket. Resolves to the
 * body and the bytes after it (the client's first stdin).
 */
function readHijackBody(req: Request, conn: Hijack): Promise<{ body: unknown; rest: Buffer }> {
  const length = Number(req.headers['content-length'] ?? 0);
  const socket: Duplex = conn.socket;
  return new Promise((resolve, reject) => {
    let buf = conn.head;
    const done = () => {
      socket.off('data', onData);
      const text = buf.subarray(0, length).toString('utf8');
      const rest = buf.subarray(length);
      if (!text.trim()) return resolve({ body: undefined, rest });
      try {
        resolve({ body: JSON.parse(text), rest });
      } catch (e) {
        reject(new BadRequest(`invalid JSON in the request body: ${(e as Error).message}`));
      }
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= length) done();
    };
    if (!Number.isInteger(length) || length < 0 || length > 1 << 20) return reject(new BadRequest('Content-Length: want the size of a JSON body'));
    if (buf.length >= length) return done();
    socket.on('data', onData);
  });
}

export function registerExec(router: Router, api: Api): void {
  const execs = api.containers.execs;

  router.post('/containers/{id}/exec', async (req, res) => {
    const config = parseExecBody(await req.json());
    const e = execs.create(req.params.id, config);
    sendJson(res, 201, { Id: e.ID });
  });

  router.get('/exec/{id}/json', async (req, res) => {
    sendJson(res, 200, inspectExec(execs.get(req.params.id)));
  });

  router.post('/exec/{id}/resize', async (req, res) => {
    const h = atoi(req, 'h'), w = atoi(req, 'w');
    await execs.resize(req.params.id, w, h);
    res.writeHead(200).end();
  });

  // A plain POST (docker exec -d: Detach) or an upgraded one streaming the exec's stdio.
  router.postOrHijack('/exec/{id}/start', async (req, res) => {
    const { detach } = parseStartBody(await req.json());
    if (!detach) throw new BadRequest('Detach: a start that is not detached must be an upgraded (hijacked) request');
    await execs.start(req.params.id, true, { write: () => {} });
    res.writeHead(200).end();
  }, async (req, conn) => {
    const { body, rest } = await readHijackBody(req, conn);
    const { detach } = parseStartBody(body);
    const e = execs.get(req.params.id);
    const out = framer(e.config.Tty);
    const socket = conn.socket;
    // Output is held until the 101 answer went out.
    let held: Buffer[] | undefined = [];
    let attachment;
    try {
      attachment = await execs.start(req.params.id, detach, { write: (stream, data) => (held ? held.push(out(stream, data)) : socket.write(out(stream, data))) });
    } catch (err) {
      if (e.ExitCode === null || detach) throw err;
      // Docker: the stream is upgraded and carries the failure; the exit code (126/127) is the exec's.
      conn.upgrade(RAW_STREAM);
      socket.end(out(1, Buffer.from(`OCI runtime exec failed: ${(err as Error).message}\r\n`)));
      return;
    }
    conn.upgrade(RAW_STREAM);
    for (const b of held) socket.write(b);
    held = undefined;
    if (detach) return void socket.end();
    if (rest.length) void attachment.input(rest);
    socket.on('data', (d: Buffer) => void attachment.input(d).catch(() => socket.destroy()));
    socket.on('end', () => void attachment.closeInput());
    socket.on('close', () => attachment.detach());
    await attachment.done;
    socket.end();
  });
}
