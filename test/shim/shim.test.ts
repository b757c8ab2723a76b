// tsrun-shim (docs/shim.md), driven as the engine drives it: the real
// build/Release/tsrun-shim over the real bin/tsrun and over runc, on a busybox
// bundle, with a small client on shim.sock (the addon's seqpacket socket and
// planCodec's records). Nothing may be left behind: no shim, no socket, no
// runtime state, no container process.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/linux/planCodec.js';
import { SHIM } from '../../src/common/generated/shimProtocol.js';
import { addon } from '../../src/native/addon.js';
import type { Spec } from '../../src/spec/types.js';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { guardHost } from '../helpers/leftovers.js';
import { TSRUN, uniqueId } from '../helpers/tsrun.js';

const SHIM_BIN = resolve(import.meta.dirname, '../../build/Release/tsrun-shim');
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));

let tsrunRoot = '';
guardHost((r) => (tsrunRoot = r), { deleteLeftovers: true });

let work = '';
let runcRoot = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsrun-shim-'));
  runcRoot = join(work, 'runc-root');
  mkdirSync(runcRoot);
});

interface Started {
  id: string;
  dir: string;
  runtime: string;
  root: string;
  bundle: Bundle;
}
const started: Started[] = [];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
};
const shimPid = (dir: string) => Number(readFileSync(join(dir, 'shim.pid'), 'utf8'));
const rss = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out: ${what}`);
}

afterEach(() => {
  // What a failed test left: its shim and its container.
  for (const s of started.splice(0)) {
    if (existsSync(join(s.dir, 'shim.pid'))) {
      const pid = shimPid(s.dir);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    spawnSync(s.runtime, ['--root', s.root, 'delete', '--force', s.id]);
    s.bundle.cleanup();
  }
});

afterAll(() => {
  if (RUNC) expect(spawnSync(RUNC, ['--root', runcRoot, 'list', '-q']).stdout.toString().trim()).toBe('');
  const shims = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(work);
    } catch {
      return false;
    }
  });
  expect(shims).toEqual([]);
  rmSync(work, { recursive: true, force: true });
});

/** One connection to shim.sock: requests answered in order, or a stream. */
class Client {
  private readonly queue: (string[] | null)[] = [];
  private readonly waiters: ((m: string[] | null) => void)[] = [];
  private readonly stop: () => void;
  private closed = false;

  constructor(dir: string) {
    const fd = addon().seqpacketConnect(join(dir, 'shim.sock'));
    this.fd = fd;
    this.stop = addon().seqpacketWatch(fd, (msg) => {
      const m = msg ? decodeMessage(msg) : null;
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
  }
  private readonly fd: number;

  send(...args: string[]): void {
    if (!addon().seqpacketSend(this.fd, encodeMessage(args))) throw new Error('the shim socket is full');
  }
  next(ms = 15_000): Promise<string[] | null> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!);
    return new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error('no message from the shim')), ms);
      this.waiters.push((m) => (clearTimeout(t), ok(m)));
    });
  }
  async request(...args: string[]): Promise<string[]> {
    this.send(...args);
    const m = await this.next();
    if (!m) throw new Error(`the shim closed the connection on ${args[0]}`);
    return m;
  }
  /** Reads an attach stream to its end: the output per stream, the exit code. */
  async drain(ms = 15_000): Promise<{ out: string; err: string; exit?: string[] }> {
    let out = '';
    let err = '';
    let exit: string[] | undefined;
    for (let m = await this.next(ms); m; m = await this.next(ms)) {
      if (m[0] === SHIM.OUT) m[1] === '1' ? (out += m[2]) : (err += m[2]);
      else if (m[0] === SHIM.EXIT) exit = m;
    }
    return { out, err, exit };
  }
  /** Reads a stream until `text` has come on stdout. */
  async expectOutput(text: string, seen = { out: '' }): Promise<void> {
    while (!seen.out.includes(text)) {
      const m = await this.next();
      if (!m) throw new Error(`stream ended before ${JSON.stringify(text)}; had ${JSON.stringify(seen.out)}`);
      if (m[0] === SHIM.OUT) seen.out += m[2];
    }
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
  }
}

function runShim(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(SHIM_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // 'close': the shim itself must not hold the first process's stdio.
  return new Promise((ok) => child.on('close', (code) => ok({ code: code ?? -1, stdout, stderr })));
}

interface Options {
  args?: string[];
  edit?: (c: Spec) => void;
  flags?: string[];
  /** The binary the shim runs (default: the runtime of the describe). */
  runtime?: string;
  /** Prepares the shim's directory before the shim starts. */
  prepare?: (dir: string) => void;
}

/** Processes whose command line contains `text` (NUL-separated arguments). */
const processesWith = (text: string) => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
  try {
    return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
});

/**
 * A runtime that runs `real`, except that the subcommand named in the file `hang`
 * sleeps (a shell's child, so only a kill of the whole process group ends it).
 */
function hangingRuntime(real: string): { path: string; hang: (cmd: string) => void; sleeper: string } {
  const dir = mkdtempSync(join(work, 'hang-'));
  const n = `${Math.floor(Math.random() * 1e6) + 7_000_000}`;
  const path = join(dir, 'runtime');
  // $7: the subcommand, after --root R --log L --log-format json.
  writeFileSync(join(dir, 'hang'), 'none');
  writeFileSync(path, `#!/bin/sh\nif [ "$3" = "--log" ] && [ "$7" = "$(cat ${dir}/hang)" ]; then sleep ${n}; exit 0; fi\nexec ${real} "$@"\n`, { mode: 0o755 });
  return { path, hang: (cmd) => writeFileSync(join(dir, 'hang'), cmd), sleeper: `sleep\0${n}` };
}

const runtimes: [string, string | undefined, () => string][] = [
  ['tsrun', TSRUN, () => tsrunRoot],
  ['runc', RUNC, () => runcRoot],
];

describe.each(runtimes)('tsrun-shim over %s', (_name, runtime, rootOf) => {
  const d = runtime ? describe : describe.skip;
  d('', () => {
    async function create(o: Options = {}): Promise<Started & { pid: number }> {
      const bundle = makeBundle((c) => {
        if (o.args) c.process!.args = o.args;
        o.edit?.(c);
      });
      const id = uniqueId('shim');
      const dir = join(work, id);
      mkdirSync(dir, { mode: 0o700 });
      o.prepare?.(dir);
      const s = { id, dir, runtime: runtime!, root: rootOf(), bundle };
      started.push(s);
      const r = await runShim(['--id', id, '--bundle', bundle.dir, '--runtime', o.runtime ?? runtime!, '--runtime-root', s.root, '--dir', dir, ...(o.flags ?? [])]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^OK \d+\n$/);
      expect(r.code).toBe(0);
      return { ...s, pid: Number(r.stdout.slice(3)) };
    }

    /** DELETE: the shim answers OK and exits; its socket, pid file and the runtime's state are gone. */
    async function remove(s: Started): Promise<void> {
      const pid = shimPid(s.dir);
      const c = new Client(s.dir);
      expect(await c.request(SHIM.DELETE)).toEqual([SHIM.OK]);
      c.close();
      await until('the shim exits', () => !alive(pid));
      expect(existsSync(join(s.dir, 'shim.sock'))).toBe(false);
      expect(existsSync(join(s.dir, 'shim.pid'))).toBe(false);
      expect(spawnSync(s.runtime, ['--root', s.root, 'state', s.id]).status).not.toBe(0);
      started.splice(started.indexOf(started.find((x) => x.id === s.id)!), 1);
      s.bundle.cleanup();
    }

    const logEntries = (dir: string, name = 'json.log') =>
      readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { log: string; stream: string; time: string });

    it('creates (OK pid), starts, logs stdout and stderr apart in json-file format, splits long lines, records the exit', async () => {
      const s = await create({ args: ['sh', '-c', 'echo out; echo err >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; echo "q\\"b\\\\"; printf partial'] });
      expect(alive(s.pid)).toBe(true);
      const c = new Client(s.dir);
      expect(await c.request(SHIM.STATE)).toEqual([SHIM.OK, String(s.pid), 'created', '', '', '']);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      const exit = await c.request(SHIM.WAIT, '');
      expect(exit[0]).toBe(SHIM.EXIT);
      expect(exit[1]).toBe('0');
      expect(exit[2]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      expect(exit[3]).toBe('0');
      // The exit is on disk, and it is the one WAIT reported.
      expect(JSON.parse(readFileSync(join(s.dir, 'exit'), 'utf8'))).toEqual({ code: 0, time: exit[2], oom: false });
      expect(await c.request(SHIM.STATE)).toEqual([SHIM.OK, String(s.pid), 'stopped', '0', exit[2], '0']);
      const entries = logEntries(s.dir);
      for (const e of entries) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      const out = entries.filter((e) => e.stream === 'stdout').map((e) => e.log);
      const err = entries.filter((e) => e.stream === 'stderr').map((e) => e.log);
      expect(err).toEqual(['err\n']);
      expect(out).toEqual(['out\n', 'a'.repeat(16384), 'a'.repeat(20000 - 16384) + '\n', 'q"b\\\n', 'partial']);
      expect(readFileSync(join(s.dir, 'json.log'), 'utf8')).toContain('"log":"q\\"b\\\\\\n"');
      c.close();
      await remove(s);
    });

    it('streams output to ATTACH clients and takes IN and CLOSEIN; a second attach sees the same output', async () => {
      const s = await create({ args: ['sh', '-c', 'while read l; do echo "got $l"; done; echo bye >&2; exit 5'], flags: ['--stdin'] });
      const a = new Client(s.dir);
      a.send(SHIM.ATTACH, '', '1');
      const b = new Client(s.dir);
      b.send(SHIM.ATTACH, '', '0');
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      a.send(SHIM.IN, 'hello\n');
      const seen = { out: '' };
      await a.expectOutput('got hello\n', seen);
      a.send(SHIM.IN, 'again\n');
      await a.expectOutput('got again\n', seen);
      // b may not write: its IN is ignored.
      b.send(SHIM.IN, 'from b\n');
      a.send(SHIM.CLOSEIN);
      const rest = await a.drain();
      expect(rest.err).toBe('bye\n');
      expect(rest.exit?.[1]).toBe('5');
      const other = await b.drain();
      expect(other.out).toBe('got hello\ngot again\n');
      expect(other.exit?.[1]).toBe('5');
      // Attaching after the exit: EXIT at once.
      const late = new Client(s.dir);
      late.send(SHIM.ATTACH, '', '0');
      expect((await late.drain()).exit?.[1]).toBe('5');
      for (const x of [a, b, c, late]) x.close();
      await remove(s);
    });

    it('records an exit that happens while no client is connected; WAIT answers at once', async () => {
      const s = await create({ args: ['sh', '-c', 'sleep 0.2; exit 3'] });
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      c.close();
      await until('the exit file', () => existsSync(join(s.dir, 'exit')));
      expect(JSON.parse(readFileSync(join(s.dir, 'exit'), 'utf8'))).toMatchObject({ code: 3, oom: false });
      const c2 = new Client(s.dir);
      expect((await c2.request(SHIM.WAIT, ''))[1]).toBe('3');
      expect((await c2.request(SHIM.STATE)).slice(2, 4)).toEqual(['stopped', '3']);
      c2.close();
      await remove(s);
    });

    it('a socket left by a killed shim in its directory is replaced; the new shim stays up', async () => {
      // The unlink of the stale socket used to reach the shim's own directory watch, read as
      // the engine's rm -rf DIR: the shim exited right after OK.
      const s = await create({ args: ['sleep', '1000'], prepare: (dir) => writeFileSync(join(dir, 'shim.sock'), '') });
      await sleep(300);
      const c = new Client(s.dir);
      expect(await c.request(SHIM.STATE)).toEqual([SHIM.OK, String(s.pid), 'created', '', '', '']);
      c.close();
      await remove(s);
    });

    it('KILL signals the container (137 for SIGKILL); DELETE is refused while it runs', async () => {
      const s = await create({ args: ['sleep', '1000'] });
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      expect((await c.request(SHIM.STATE))[2]).toBe('running');
      const refused = await c.request(SHIM.DELETE);
      expect(refused[0]).toBe('ERR');
      expect(refused).toHaveLength(7);
      const w = new Client(s.dir);
      w.send(SHIM.WAIT, '');
      expect(await c.request(SHIM.KILL, 'KILL', '0')).toEqual([SHIM.OK]);
      expect((await w.next())?.slice(0, 2)).toEqual([SHIM.EXIT, '137']);
      expect(JSON.parse(readFileSync(join(s.dir, 'exit'), 'utf8')).code).toBe(137);
      // A failing runtime call is an ERR with the runtime's message.
      const bad = await c.request(SHIM.KILL, 'NOSUCHSIGNAL', '0');
      expect(bad[0]).toBe('ERR');
      expect(bad[1]).toBe('signal the container');
      expect(bad[6]).not.toBe('');
      c.close();
      w.close();
      await remove(s);
    });

    it('EXEC runs a process with its own stdio and exit code, twice, with a flat RSS under 1 MiB', async () => {
      const s = await create({ args: ['sleep', '1000'] });
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      const process = { ...s.bundle.config.process!, args: ['sh', '-c', 'echo "exec out $0"; echo exec err >&2; exit 7'] };
      const file = join(s.dir, 'process.json');
      writeFileSync(file, JSON.stringify(process));
      const shim = shimPid(s.dir);
      const sizes: number[] = [rss(shim)];
      for (const n of [1, 2]) {
        const ok = await c.request(SHIM.EXEC, `e${n}`, file, '0', '0');
        expect(ok[0], ok.join(' ')).toBe(SHIM.OK);
        expect(Number(ok[1])).toBeGreaterThan(0);
        const a = new Client(s.dir);
        a.send(SHIM.ATTACH, `e${n}`, '0');
        const r = await a.drain();
        expect(r).toEqual({ out: 'exec out sh\n', err: 'exec err\n', exit: [SHIM.EXIT, '7', expect.any(String), '0'] });
        expect((await c.request(SHIM.WAIT, `e${n}`))[1]).toBe('7');
        expect(JSON.parse(readFileSync(join(s.dir, `exec-e${n}.exit`), 'utf8')).code).toBe(7);
        a.close();
        sizes.push(rss(shim));
      }
      // Exec output is not the container's log.
      expect(readFileSync(join(s.dir, 'json.log'), 'utf8')).toBe('');
      expect((await c.request(SHIM.EXEC, 'e1', file, '0', '0'))[0]).toBe('ERR');
      console.log(`tsrun-shim over ${_name}: VmRSS ${sizes.join(' -> ')} kB`);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(1024);
      expect(sizes[2] - sizes[1]).toBeLessThanOrEqual(64);
      expect(await c.request(SHIM.KILL, 'KILL', '0')).toEqual([SHIM.OK]);
      await c.request(SHIM.WAIT, '');
      c.close();
      await remove(s);
    });

    it('finished execs beyond the last 8 are forgotten with their files: the shim stays flat however many execs run', async () => {
      const s = await create({ args: ['sleep', '1000'] });
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      const file = join(s.dir, 'process.json');
      writeFileSync(file, JSON.stringify({ ...s.bundle.config.process!, args: ['true'] }));
      for (let n = 0; n < 20; n++) {
        expect((await c.request(SHIM.EXEC, `t${n}`, file, '0', '0'))[0]).toBe(SHIM.OK);
        const a = new Client(s.dir);
        a.send(SHIM.ATTACH, `t${n}`, '0');
        expect((await a.drain()).exit?.[1]).toBe('0');
        a.close();
      }
      // One more round of events after the last exit, so the trim has run.
      expect((await c.request(SHIM.STATE))[0]).toBe(SHIM.OK);
      const files = readdirSync(s.dir).filter((f) => /^exec-t\d+\.(pid|exit)$/.test(f));
      expect(files.filter((f) => f.endsWith('.exit')).length).toBeLessThanOrEqual(8);
      expect(files).not.toContain('exec-t0.exit');
      expect(files).toContain('exec-t19.exit');
      // The newest is still known; the oldest is not (a WAIT on it is refused).
      expect((await c.request(SHIM.WAIT, 't19'))[1]).toBe('0');
      expect((await c.request(SHIM.WAIT, 't0'))[0]).toBe('ERR');
      expect(await c.request(SHIM.KILL, 'KILL', '0')).toEqual([SHIM.OK]);
      await c.request(SHIM.WAIT, '');
      c.close();
      await remove(s);
    });

    it('with --tty: output through the pty master, RESIZE as a request and inside the stream, logged as stdout', async () => {
      const s = await create({
        args: ['sh', '-c', 'stty size; read l; echo "got $l"; stty size'],
        edit: (c) => (c.process!.terminal = true),
        flags: ['--tty', '--stdin'],
      });
      expect(existsSync(join(s.dir, 'console.sock'))).toBe(false);
      const c = new Client(s.dir);
      expect(await c.request(SHIM.RESIZE, '', '100', '30')).toEqual([SHIM.OK]);
      const a = new Client(s.dir);
      a.send(SHIM.ATTACH, '', '1');
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      const seen = { out: '' };
      await a.expectOutput('30 100', seen);
      a.send(SHIM.RESIZE, '120', '40');
      a.send(SHIM.IN, 'hi\n');
      const rest = await a.drain();
      const all = (seen.out + rest.out).replace(/\r/g, '');
      expect(all).toContain('got hi\n');
      expect(all).toContain('40 120');
      expect(rest.exit?.[1]).toBe('0');
      const entries = logEntries(s.dir);
      expect(entries.every((e) => e.stream === 'stdout')).toBe(true);
      expect(entries.map((e) => e.log).join('').replace(/\r/g, '')).toContain('got hi\n');
      a.close();
      c.close();
      await remove(s);
    });

    it('rotates json.log at --log-max-size, keeping --log-max-file files', async () => {
      const s = await create({ args: ['sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i of the rotation test"; i=$((i+1)); done'], flags: ['--log-max-size', '2000', '--log-max-file', '3'] });
      const c = new Client(s.dir);
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      expect((await c.request(SHIM.WAIT, ''))[1]).toBe('0');
      const files = readdirSync(s.dir).filter((f) => f.startsWith('json.log')).sort();
      expect(files).toEqual(['json.log', 'json.log.1', 'json.log.2']);
      for (const f of files) expect(readFileSync(join(s.dir, f)).length).toBeLessThanOrEqual(2000);
      const lines = [...logEntries(s.dir, 'json.log.2'), ...logEntries(s.dir, 'json.log.1'), ...logEntries(s.dir)].map((e) => e.log);
      expect(lines.at(-1)).toBe('line 199 of the rotation test\n');
      // Consecutive: nothing lost inside the kept files.
      const first = Number(/line (\d+)/.exec(lines[0])![1]);
      expect(lines).toEqual(Array.from({ length: 200 - first }, (_, i) => `line ${first + i} of the rotation test\n`));
      c.close();
      await remove(s);
    });

    it('a create that hangs is killed (its whole process group) after --runtime-timeout: exit 1 naming the step, nothing left', async () => {
      const h = hangingRuntime(runtime!);
      h.hang('create');
      const bundle = makeBundle((c) => (c.process!.args = ['true']));
      const id = uniqueId('shim');
      const dir = join(work, id);
      mkdirSync(dir, { mode: 0o700 });
      started.push({ id, dir, runtime: runtime!, root: rootOf(), bundle });
      const t0 = Date.now();
      const r = await runShim(['--id', id, '--bundle', bundle.dir, '--runtime', h.path, '--runtime-root', rootOf(), '--dir', dir, '--runtime-timeout', '1']);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 1, stdout: '', stderr: 'runtime create timed out after 1 s\n' });
      expect(Date.now() - t0).toBeLessThan(10_000);
      // The shim's child exits right after its report.
      await until('the shim and the runtime are gone', () => processesWith(h.sleeper).length + processesWith(dir).length === 0, 3000);
      expect(readdirSync(dir).filter((f) => !['runtime.log', 'json.log'].includes(f))).toEqual([]);
      expect(spawnSync(runtime!, ['--root', rootOf(), 'state', id]).status).not.toBe(0);
    });

    it('start, exec and kill that hang answer ERR after --runtime-timeout, while the loop serves STATE, output and attach; the shim goes on', async () => {
      const h = hangingRuntime(runtime!);
      const s = await create({ args: ['sh', '-c', 'while true; do echo tick; sleep 0.05; done'], runtime: h.path, flags: ['--runtime-timeout', '1'] });
      const c = new Client(s.dir);
      h.hang('start');
      c.send(SHIM.START);
      await sleep(100);
      // Answered while the START's runtime call hangs, not after it.
      const other = new Client(s.dir);
      const t0 = Date.now();
      expect(await other.request(SHIM.STATE)).toEqual([SHIM.OK, String(s.pid), 'created', '', '', '']);
      expect(Date.now() - t0).toBeLessThan(500);
      expect(await c.next()).toEqual(['ERR', 'start the container', '', '', '', '', 'runtime start timed out after 1 s']);
      // SIGKILLed with its group before the answer; gone a moment later (the kernel's exit is not instant).
      await until('the hanging runtime is gone', () => processesWith(h.sleeper).length === 0, 1000);
      h.hang('none');
      expect(await c.request(SHIM.START)).toEqual([SHIM.OK]);
      const a = new Client(s.dir);
      a.send(SHIM.ATTACH, '', '0');
      h.hang('exec');
      const file = join(s.dir, 'process.json');
      writeFileSync(file, JSON.stringify({ ...s.bundle.config.process!, args: ['true'] }));
      c.send(SHIM.EXEC, 'e1', file, '0', '0');
      await sleep(100);
      // A request that needs the runtime as well waits for the call under way, then runs.
      other.send(SHIM.KILL, 'CONT', '0');
      const seen = { out: '' };
      await a.expectOutput('tick\ntick\ntick\ntick\n', seen);
      expect(await c.next()).toEqual(['ERR', 'exec a process in the container', '', '', '', '', 'runtime exec timed out after 1 s']);
      expect(await other.next()).toEqual([SHIM.OK]);
      // The container's output went on (attach and log) during the exec's call.
      expect(logEntries(s.dir).length).toBeGreaterThan(10);
      h.hang('kill');
      expect((await c.request(SHIM.KILL, 'KILL', '0'))[6]).toBe('runtime kill timed out after 1 s');
      await until('the hanging runtime is gone', () => processesWith(h.sleeper).length === 0, 1000);
      h.hang('none');
      // The exec id of the exec that timed out is free again; the container still runs.
      expect((await c.request(SHIM.EXEC, 'e1', file, '0', '0'))[0]).toBe(SHIM.OK);
      expect((await c.request(SHIM.STATE))[2]).toBe('running');
      expect(await c.request(SHIM.KILL, 'KILL', '0')).toEqual([SHIM.OK]);
      expect((await c.request(SHIM.WAIT, ''))[1]).toBe('137');
      for (const x of [a, c, other]) x.close();
      await remove(s);
    });

    it('a failing create exits 1 with the runtime\'s message and leaves nothing behind', async () => {
      const bundle = makeBundle();
      writeFileSync(join(bundle.dir, 'config.json'), '{"ociVersion": "1.0.2", "process": ');
      const id = uniqueId('shim');
      const dir = join(work, id);
      mkdirSync(dir, { mode: 0o700 });
      started.push({ id, dir, runtime: runtime!, root: rootOf(), bundle });
      const r = await runShim(['--id', id, '--bundle', bundle.dir, '--runtime', runtime!, '--runtime-root', rootOf(), '--dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toMatch(/exited with status/);
      expect(lines[0].length).toBeGreaterThan(5);
      expect(readdirSync(dir).filter((f) => !['runtime.log', 'json.log'].includes(f))).toEqual([]);
      expect(spawnSync(runtime!, ['--root', rootOf(), 'state', id]).status).not.toBe(0);
    });
  });
});
