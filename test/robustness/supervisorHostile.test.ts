// Hostile input to tsd: raw HTTP over its socket (generated requests, broken
// framing, slow clients), names and paths that try to leave the data root, a
// build context that tries to leave its directory, and the socket's access.
// tsd never crashes (same pid, /_ping answers), every answer comes within a
// bound and errors are Docker's {"message"} with a 4xx (a 500 for bad input
// is a bug), and nothing is left behind. Its tsd runs in a network namespace
// of its own (networks/create makes bridges; pulls reach nothing).
// Cases: TSRUN_FUZZ_CASES (default 300 in the suite; `npm run fuzz` runs 3000).
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestNetns } from '../supervisor/netns.js';
import { closeAndCheck, leftovers, type Tsd } from '../supervisor/tsd.js';

const CASES = Number(process.env.TSRUN_FUZZ_CASES ?? 300);
let seed = Number(process.env.TSRUN_FUZZ_SEED ?? 20261202);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const ns = new TestNetns();
let t: Tsd;
let pid: number;
let victim: string;

interface Answer { status?: number; head: string; body: string; closed: boolean; timedOut: boolean }

/** One connection: `chunks` written (`gapMs` apart), then the answer read until complete, closed, or `timeoutMs`. */
function exchange(chunks: Array<string | Buffer>, opts: { gapMs?: number; timeoutMs?: number; endAfterMs?: number; head?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const s = connect(t.socket);
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean, timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const text = buf.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      const head = at < 0 ? text : text.slice(0, at);
      let body = at < 0 ? '' : text.slice(at + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) body = dechunk(body);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve({ status: m ? Number(m[1]) : undefined, head, body: Buffer.from(body, 'latin1').toString('utf8'), closed, timedOut });
    };
    const timer = setTimeout(() => finish(false, true), opts.timeoutMs ?? 20_000);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (complete(buf.toString('latin1'), opts.head === true)) finish(false);
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', async () => {
      for (const c of chunks) {
        if (done) return;
        s.write(c);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      if (opts.endAfterMs !== undefined) setTimeout(() => s.end(), opts.endAfterMs);
    });
  });
}

function complete(text: string, head: boolean): boolean {
  const at = text.indexOf('\r\n\r\n');
  if (at < 0) return false;
  const h = text.slice(0, at);
  if (/^HTTP\/1\.1 1\d\d/.test(h)) return true;
  if (head || /^HTTP\/1\.[01] (204|304)/.test(h)) return true;
  const len = /\r\ncontent-length: (\d+)/i.exec(h);
  if (len) return text.length - at - 4 >= Number(len[1]);
  if (/\r\ntransfer-encoding: chunked/i.test(h)) return text.endsWith('0\r\n\r\n');
  return false;
}

function dechunk(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    const nl = s.indexOf('\r\n', i);
    if (nl < 0) break;
    const n = parseInt(s.slice(i, nl), 16);
    if (!n) break;
    out += s.slice(nl + 2, nl + 2 + n);
    i = nl + 2 + n + 2;
  }
  return out;
}

function request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): string | Buffer {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const hs = { Host: 'docker', Connection: 'close', ...(body !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(b.length) } : {}), ...headers };
  const head = `${method} ${path} HTTP/1.1\r\n${Object.entries(hs).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

async function api(method: string, path: string, body?: unknown): Promise<Answer> {
  return exchange([request(method, path, body === undefined ? undefined : JSON.stringify(body))]);
}

/** tsd still runs as the same process and answers. */
async function alive(): Promise<void> {
  expect(t.process().exitCode, t.log().slice(-3000)).toBe(null);
  expect(t.process().pid).toBe(pid);
  const a = await api('GET', '/_ping');
  expect(a.status, t.log().slice(-2000)).toBe(200);
  expect(a.body).toBe('OK');
}

/** A Docker-shaped error: 4xx/5xx with {"message": "..."}. */
function dockerError(a: Answer, what: string): void {
  expect(a.status, what).toBeGreaterThanOrEqual(400);
  let msg: unknown;
  try {
    msg = (JSON.parse(a.body) as { message?: unknown }).message;
  } catch { /* checked below */ }
  expect(typeof msg, `${what}: ${a.head}\n${a.body.slice(0, 300)}`).toBe('string');
}

// -- generated requests ------------------------------------------------------

const IDS = () => [victim, victim.slice(0, 12), 'nosuch', '', '..', '../../etc', '%2e%2e%2f%2e%2e', '%00', '%', '%zz', 'a%0Ab', 'é', 'x'.repeat(300), '%F0%9F%92%A9', '*', '?'];
const VALUES: unknown[] = [null, true, false, 0, -1, 1, 4294967296, 1e308, -0.5, '', 'x', '/', '../../etc', '/proc/self/fd/4', 'a'.repeat(5000),
  '\u0000', '\ud800', '\n', [], [''], [null], {}, { '': '' }, { path: '/etc' }, ['sh', '-c', 'exit 0'], 'busybox', 'json-file', '1g', '../x', 'a/../../b'];
const QUERY_VALUES = ['', '1', '-1', 'true', 'abc', '99999999999999999999', '%00', '%', '%zz', '..%2f..%2f', 'x'.repeat(3000), '{', '{"a":', '[]', 'SIGKILL', 'SIGFOO', '0x10', '1e9', '%E2%82', 'busybox', 'a:b:c'];

const BODIES: Record<string, unknown> = {
  '/containers/create': { Image: 'busybox', Cmd: ['true'], Labels: { fuzz: '1' }, HostConfig: { Binds: ['/tmp:/x'], LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } }, Memory: 0, RestartPolicy: { Name: 'no' } } },
  exec: { Cmd: ['true'], AttachStdout: true, AttachStderr: true, Env: ['A=b'], User: '' },
  '/networks/create': { Name: 'fz-net', Driver: 'bridge', Labels: { fuzz: '1' }, IPAM: { Config: [{ Subnet: '10.77.0.0/24' }] }, Options: {} },
  '/volumes/create': { Name: 'fz-vol', Driver: 'local', Labels: { fuzz: '1' }, DriverOpts: {} },
  '/auth': { username: 'u', password: 'p', serveraddress: '127.0.0.1:1' },
  start: { Detach: true, Tty: false },
};

/** Every [parent, key] of a document, for replacing or deleting. */
function slots(doc: unknown, out: Array<[Record<string | number, unknown>, string | number]> = []): Array<[Record<string | number, unknown>, string | number]> {
  if (doc && typeof doc === 'object') for (const k of Object.keys(doc)) {
    const parent = doc as Record<string | number, unknown>;
    out.push([parent, Array.isArray(doc) ? Number(k) : k]);
    slots(parent[k], out);
  }
  return out;
}

function mutate(base: unknown): unknown {
  const doc = { root: structuredClone(base) } as Record<string, unknown>;
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
    const [parent, key] = pick(slots(doc));
    const r = rand();
    if (r < 0.2 && !Array.isArray(parent) && parent !== doc) delete parent[key];
    else if (r < 0.3 && !Array.isArray(parent)) parent[pick(['Foo', '__proto__', 'constructor', 'HostConfig', 'Name', 'Image', '\u0000'])] = structuredClone(pick(VALUES));
    else parent[key] = structuredClone(pick(VALUES));
  }
  return doc.root;
}

function randomBody(base: unknown): string | Buffer {
  const r = rand();
  if (r < 0.6) return JSON.stringify(mutate(base));
  if (r < 0.7) return JSON.stringify(base).slice(0, Math.floor(rand() * 40));
  if (r < 0.8) return pick(['', 'null', '[]', '"x"', '1', '{', '{"Image":', '\u0000', '{}{}', '{"a":1}garbage', 'nul']);
  if (r < 0.9) return Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  return JSON.stringify({ deep: JSON.parse('['.repeat(2000) + ']'.repeat(2000)) as unknown });
}

function randomQuery(keys: string[]): string {
  const parts: string[] = [];
  for (let n = Math.floor(rand() * 4); n > 0; n--) parts.push(`${pick(keys)}=${pick(QUERY_VALUES)}`);
  if (rand() < 0.1) parts.push(pick(['&&&', '=', '==x', 'a', '%', 'a[b]=c']));
  return parts.length ? `?${parts.join('&')}` : '';
}

interface Case { what: string; chunks: Array<string | Buffer>; framed: boolean; head?: boolean; endAfterMs?: number }

/** A request of the API, its body or query generated. */
function apiCase(): Case {
  const id = pick(IDS());
  const v = pick(['', '/v1.41', '/v1.12', '/v9.99', '/v1.41/v1.41']);
  const k = Math.floor(rand() * 16);
  let method = 'POST', path: string, body: string | Buffer | undefined;
  switch (k) {
    case 0: path = `/containers/create${randomQuery(['name', 'platform'])}`; body = randomBody(BODIES['/containers/create']); break;
    case 1: path = `/containers/${id}/exec`; body = randomBody(BODIES.exec); break;
    case 2: path = '/networks/create'; body = randomBody(BODIES['/networks/create']); break;
    case 3: path = '/volumes/create'; body = randomBody(BODIES['/volumes/create']); break;
    case 4: path = `/build${randomQuery(['t', 'dockerfile', 'buildargs', 'labels', 'q', 'nocache', 'pull', 'memory', 'networkmode', 'platform', 'target', 'cachefrom', 'shmsize'])}`; body = randomBody({}); break;
    case 5: path = `/images/create${randomQuery(['fromImage', 'tag', 'fromSrc', 'platform', 'repo'])}`; break;
    case 6: path = '/auth'; body = randomBody(BODIES['/auth']); break;
    case 7: path = `/containers/${id}/${pick(['start', 'stop', 'kill', 'restart', 'pause', 'unpause'])}${randomQuery(['t', 'signal', 'detachKeys', 'timeout'])}`; break;
    case 8: path = `/containers/${id}/rename${randomQuery(['name'])}`; break;
    case 9: path = `/containers/${id}/resize${randomQuery(['h', 'w'])}`; break;
    case 10: path = `/exec/${id}/start`; body = randomBody(BODIES.start); break;
    case 11: path = `/images/${pick(['busybox', id, 'busybox:latest', 'a/b/c'])}/tag${randomQuery(['repo', 'tag'])}`; break;
    case 12: method = 'GET'; path = `${pick(['/containers/json', '/images/json', '/volumes', '/networks', '/system/df', '/info', '/version'])}${randomQuery(['all', 'filters', 'size', 'limit', 'digests'])}`; break;
    case 13: method = 'GET'; path = `/${pick(['containers', 'images', 'volumes', 'networks', 'exec'])}/${id}/${pick(['json', 'top', 'changes', 'history', ''])}${randomQuery(['ps_args', 'size'])}`; break;
    // Never the victim (by id or prefix): the other cases need a container.
    case 14: method = 'DELETE'; path = `/${pick(['containers', 'images', 'volumes', 'networks'])}/${victim.startsWith(id) ? 'nosuch' : id}${randomQuery(['force', 'v', 'noprune'])}`; break;
    default: method = pick(['GET', 'PUT', 'PATCH', 'OPTIONS', 'TRACE', 'FOO', 'DELETE', 'POST', 'HEAD']); path = pick(['/', '//', '/_ping/x', '/containers', `/${id}`, '/v1.41', '/../../etc/passwd', '/containers//json', `/plugins`, '/session', '/swarm', '/containers/create/../json', `/x?${'a'.repeat(5000)}`]);
  }
  return { what: `${method} ${v}${path} ${String(body ?? '').slice(0, 200)}`, chunks: [request(method, `${v}${path}`, body)], framed: true, head: method === 'HEAD' };
}

/** Broken HTTP: framing, lengths, headers. */
function framingCase(): Case {
  const k = Math.floor(rand() * 8);
  const body = '{"Name":"fz-frame"}';
  switch (k) {
    case 0: return { what: 'Content-Length larger than the body', chunks: [request('POST', '/volumes/create', body, { 'Content-Length': String(body.length + 1 + Math.floor(rand() * 1e6)) })], framed: false, endAfterMs: 100 };
    case 1: return { what: 'Content-Length not a number', chunks: [request('POST', '/volumes/create', body, { 'Content-Length': pick(['-1', 'abc', '1e3', '99999999999999999999999', ' ', '0x10', '1, 2']) })], framed: false, endAfterMs: 100 };
    case 2: return { what: 'Content-Length beyond the body limit', chunks: [request('POST', '/containers/create', body, { 'Content-Length': String(2 ** 40) })], framed: false, endAfterMs: 100 };
    case 3: {
      const chunked = pick(['5\r\n{"Nam\r\nzz\r\n', 'ffffffffffffffff\r\nx\r\n0\r\n\r\n', '3\r\n{}\r\n0\r\n\r\n', '-1\r\n\r\n', '2\r\n{}0\r\n\r\n', '0\r\nX-Trailer: \u0000\r\n\r\n']);
      return { what: `broken chunked ${JSON.stringify(chunked)}`, chunks: [`POST /volumes/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`], framed: false, endAfterMs: 100 };
    }
    case 4: return { what: 'both Content-Length and chunked', chunks: [`POST /volumes/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`], framed: false, endAfterMs: 100 };
    case 5: return { what: 'oversized header', chunks: [`GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: ${'a'.repeat(20_000 + Math.floor(rand() * 100_000))}\r\n\r\n`], framed: false, endAfterMs: 100 };
    case 6: return { what: 'many headers', chunks: [`GET /_ping HTTP/1.1\r\nHost: d\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`], framed: false, endAfterMs: 100 };
    default: {
      const bad = pick(['GET / HTTP/9.9\r\n\r\n', 'GET\r\n\r\n', '\u0000\u0001\u0002\r\n\r\n', 'GET /_ping HTTP/1.1\r\nHost d\r\n\r\n', 'GET /_ping HTTP/1.1\r\n Folded: x\r\n\r\n', 'GET /_ping\u0000 HTTP/1.1\r\n\r\n', 'POST /build HTTP/1.1\r\nHost: d\r\nContent-Length: 5\r\n\r\n\u001f\u008b\u0008\u0000\u0000', 'GET /containers/%/json HTTP/1.1\r\nHost: d\r\n\r\n']);
      return { what: `malformed ${JSON.stringify(bad)}`, chunks: [bad], framed: false, endAfterMs: 200 };
    }
  }
}

/** What the fuzz may legitimately create; removed through the API afterwards. */
const statuses = new Map<number | string, number>();
const serverErrors: string[] = [];

function snapshotTree(root: string, skip: (p: string) => boolean = () => false): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let es: string[];
    try {
      es = readdirSync(d);
    } catch {
      return;
    }
    for (const e of es) {
      const p = join(d, e);
      if (skip(p)) continue;
      out.push(p);
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory() && !existsSync(join(p, '.skipwalk'))) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

/** New names directly under /, and under /tmp those a hostile name or entry here would make (others' tests use /tmp). */
const hostTop = () => [...readdirSync('/').map((e) => `/${e}`), ...readdirSync('/tmp').filter((e) => /escape|^(x|b|etc)$/.test(e)).map((e) => `/tmp/${e}`)];

let hostBefore: string[];
let leftBefore: string[];
let dataBefore: string[];
/** Records that are expected to change while tsd runs (logs, caches). */
const volatile = (p: string) => /\/(containers|overlay|snapshots|blobs|build|exec|images|volumes\/[^/]+\/_data)\//.test(p);

beforeAll(async () => {
  t = await ns.startTsd(['--http-headers-timeout', '3'], 'busybox');
  pid = t.process().pid!;
  const r = await t.docker(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '600']);
  expect(r.code, r.stderr).toBe(0);
  victim = r.stdout.trim();
  hostBefore = hostTop();
  leftBefore = leftovers(t);
  dataBefore = snapshotTree(join(t.dataRoot, 'volumes')).concat(snapshotTree(join(t.dataRoot, 'network')));
}, 90_000);

afterAll(async () => {
  try {
    if (t) {
      await t.docker(['rm', '-f', victim]); // by id: a generated rename may have renamed it
      expect(await closeAndCheck(t)).toEqual([]);
    }
  } finally {
    ns.destroy(t);
  }
}, 60_000);

const CHUNKS = Array.from({ length: Math.ceil(CASES / 50) }, (_, k) => [k * 50, Math.min(CASES, k * 50 + 50)] as const);

describe(`generated requests (${CASES} cases)`, () => {
  it.each(CHUNKS)('cases %i to %i: answered in time, Docker-shaped errors, tsd alive', async (from, to) => {
    for (let i = from; i < to; i++) {
      const c = rand() < 0.8 ? apiCase() : framingCase();
      const a = await exchange(c.chunks, { head: c.head, endAfterMs: c.endAfterMs, timeoutMs: 30_000 });
      const what = `case ${i} (seed ${process.env.TSRUN_FUZZ_SEED ?? 20261202}): ${c.what}`;
      statuses.set(a.status ?? (a.closed ? 'closed' : 'none'), (statuses.get(a.status ?? (a.closed ? 'closed' : 'none')) ?? 0) + 1);
      expect(a.timedOut, `${what}: no answer and not closed`).toBe(false);
      if (c.framed) {
        expect(a.status, `${what}: ${a.head}`).toBeDefined();
        if (a.status! >= 400 && !c.head) dockerError(a, what);
        // A registry that cannot be reached is a 500, as with dockerd; any other 500 is a bug.
        if (a.status! >= 500 && !/getaddrinfo|ECONNREFUSED|ENETUNREACH|bad port|fetch failed/.test(a.body)) serverErrors.push(`${what} → ${a.status} ${a.body.slice(0, 200)}`);
      } else if (a.status !== undefined && a.status >= 400) dockerError(a, what);
      if (i % 10 === 9) await alive();
    }
    await alive();
  }, 120_000);

  it('left nothing a generated request did not create, and what it created goes through the API', async () => {
    console.log(`tsd fuzz: ${CASES} cases, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, 500s: ${serverErrors.length}\n${serverErrors.slice(0, 20).join('\n')}`);
    expect(serverErrors, serverErrors.join('\n')).toEqual([]);
    // What generated requests may have made: containers, volumes, networks, tags.
    const cs = (JSON.parse((await api('GET', '/containers/json?all=1')).body) as Array<{ Id: string }>).filter((c) => c.Id !== victim);
    for (const c of cs) expect((await api('DELETE', `/containers/${c.Id}?force=1&v=1`)).status).toBe(204);
    const vs = (JSON.parse((await api('GET', '/volumes')).body) as { Volumes: Array<{ Name: string }> }).Volumes;
    for (const v of vs) expect((await api('DELETE', `/volumes/${encodeURIComponent(v.Name)}`)).status).toBe(204);
    const nets = (JSON.parse((await api('GET', '/networks')).body) as Array<{ Id: string; Name: string }>).filter((n) => !['bridge', 'host', 'none'].includes(n.Name));
    for (const n of nets) expect((await api('DELETE', `/networks/${n.Id}`)).status).toBe(204);
    const imgs = JSON.parse((await api('GET', '/images/json')).body) as Array<{ RepoTags: string[] | null }>;
    for (const tag of imgs.flatMap((m) => m.RepoTags ?? []).filter((x) => x !== 'busybox:latest')) expect((await api('DELETE', `/images/${tag}`)).status).toBe(200);
    const after = snapshotTree(join(t.dataRoot, 'volumes')).concat(snapshotTree(join(t.dataRoot, 'network')));
    // Records are files; an emptied records directory is no leftover.
    // The victim's own address moves when a generated request restarted it.
    const ip = (JSON.parse((await api('GET', `/containers/${victim}/json`)).body) as { NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> } }).NetworkSettings?.Networks?.bridge?.IPAddress;
    expect(after.filter((p) => !dataBefore.includes(p) && !volatile(p) && !statSync(p).isDirectory() && !(ip && p.endsWith(`/ipam/bridge/${ip}`)))).toEqual([]);
    expect(hostTop().filter((p) => !hostBefore.includes(p) && !/^\/tmp\/(tsd-test-|vitest|tsrun|registry)/.test(p))).toEqual([]);
    // The victim's shim changes when a generated request restarted it.
    const victimShim = (l: string) => l.startsWith('shim ') && readFileSync(`/proc/${l.slice(5)}/cmdline`, 'utf8').includes(victim);
    expect(leftovers(t).filter((l) => !leftBefore.includes(l) && !victimShim(l))).toEqual([]);
    await alive();
  }, 60_000);
});

describe('methods and paths without a route', () => {
  it('are dockerd\'s 404 "page not found", a path known for another method too, and a method node\'s parser does not know', async () => {
    for (const [m, p] of [['PATCH', '/v1.41/containers/json'], ['PUT', '/v1.41/containers/json'], ['DELETE', '/_ping'], ['GET', '/v1.41/nope'], ['FOO', '/v1.41/containers/json'], ['BREW', '/_ping']]) {
      const a = await api(m, p);
      expect({ what: `${m} ${p}`, status: a.status, body: JSON.parse(a.body) }).toEqual({ what: `${m} ${p}`, status: 404, body: { message: 'page not found' } });
    }
    await alive();
  });
});

describe('slow and silent clients', () => {
  it('answers headers trickled byte by byte', async () => {
    const bytes = [...Buffer.from('GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n')].map((b) => Buffer.from([b]));
    const a = await exchange(bytes, { gapMs: 20 });
    expect(a.status).toBe(200);
    expect(a.body).toBe('OK');
  });

  it('closes a connection that sends nothing, or only half its headers, after the headers timeout', async () => {
    const [silent, half] = await Promise.all([exchange([], { timeoutMs: 20_000 }), exchange(['GET /_ping HTTP/1.1\r\nHo'], { timeoutMs: 20_000 })]);
    expect(silent.timedOut).toBe(false);
    expect(half.timedOut).toBe(false);
    await alive();
  }, 30_000);

  it('reads a body trickled for longer than the headers timeout (long uploads are not cut)', async () => {
    const body = JSON.stringify({ Name: 'fz-slow-body' });
    const head = `POST /volumes/create HTTP/1.1\r\nHost: d\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const parts = [head, ...Array.from({ length: 10 }, (_, i) => body.slice(Math.floor((i * body.length) / 10), Math.floor(((i + 1) * body.length) / 10)))];
    const a = await exchange(parts, { gapMs: 500, timeoutMs: 20_000 });
    expect(a.status, a.body).toBe(201);
    expect((await api('DELETE', '/volumes/fz-slow-body')).status).toBe(204);
  }, 30_000);

  it('keeps a hijacked attach stream and a follow of the logs open past the headers timeout', async () => {
    // A container of its own: the generated requests may have stopped the victim.
    const r = await t.docker(['run', '-d', 'busybox', 'sleep', '600']);
    expect(r.code, r.stderr).toBe(0);
    const victim = r.stdout.trim();
    const logs = exchange([request('GET', `/containers/${victim}/logs?follow=1&stdout=1`)], { timeoutMs: 8_000 });
    const attach = exchange([request('POST', `/containers/${victim}/attach?stream=1&stdout=1`, undefined, { Connection: 'Upgrade', Upgrade: 'tcp' })], { timeoutMs: 8_000 });
    const [l, at] = await Promise.all([logs, attach]);
    expect(l.timedOut).toBe(true);
    expect(l.status).toBe(200);
    expect(at.timedOut || at.status === 101).toBe(true);
    expect(at.closed).toBe(false);
    expect((await t.docker(['rm', '-f', victim])).code).toBe(0);
    await alive();
  }, 30_000);
});

describe('names and ids that try to leave', () => {
  const HOSTILE = ['../x', '../../../../tmp/tsd-escape', 'a/../../b', 'a\u0000b', 'a\nb', 'é', '\u202e', '.', '..', '-x', 'a b', '//abs'];

  it('container names (create ?name=, rename) are refused with dockerd\'s message', async () => {
    for (const n of HOSTILE) {
      const q = encodeURIComponent(n);
      const c = await api('POST', `/containers/create?name=${q}`, { Image: 'busybox', Cmd: ['true'] });
      dockerError(c, `create ${JSON.stringify(n)}`);
      expect(c.status, n).toBe(400);
      expect(JSON.parse(c.body).message).toMatch(/^Invalid container name \(.*\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/s);
      const r = await api('POST', `/containers/${victim}/rename?name=${q}`);
      expect(r.status, n).toBe(400);
      expect(JSON.parse(r.body).message).toMatch(/^Invalid container name \(.*\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/s);
    }
  });

  it('volume and network names are refused, 400, nothing made', async () => {
    for (const n of HOSTILE) {
      const v = await api('POST', '/volumes/create', { Name: n });
      dockerError(v, `volume ${JSON.stringify(n)}`);
      expect(v.status, `${n}: ${v.body}`).toBe(400);
      const net = await api('POST', '/networks/create', { Name: n });
      dockerError(net, `network ${JSON.stringify(n)}`);
      expect(net.status, `${n}: ${net.body}`).toBe(400);
    }
  });

  it('a NUL byte in any string of a body is a 400 naming the field (the runtime would cut or refuse it)', async () => {
    const r = await t.docker(['run', '-d', 'busybox', 'sleep', '600']);
    expect(r.code, r.stderr).toBe(0);
    const running = r.stdout.trim();
    const cases: Array<[string, unknown, RegExp]> = [
      ['/containers/create', { Image: 'busybox', Cmd: ['a\u0000b'] }, /^Cmd\[0\]: invalid string: it contains a NUL byte$/],
      ['/containers/create', { Image: 'busybox', Cmd: ['true'], Env: ['A=\u0000'] }, /^Env\[0\]: /],
      ['/containers/create', { Image: 'busybox', Cmd: ['true'], Labels: { 'a\u0000': 'b' } }, /^Labels\.a\u0000: /],
      [`/containers/${running}/exec`, { Cmd: ['sh', '\u0000'] }, /^Cmd\[1\]: /],
      ['/volumes/create', { Name: 'nulvol', Labels: { a: '\u0000' } }, /^Labels\.a: /],
    ];
    for (const [path, body, msg] of cases) {
      const a = await api('POST', path, body);
      expect(a.status, `${path} ${a.body}`).toBe(400);
      expect(JSON.parse(a.body).message).toMatch(msg);
    }
    expect((await t.docker(['rm', '-f', running])).code).toBe(0);
  });

  it('a command that is no executable is a 400 naming it, and leaves nothing', async () => {
    for (const cmd of ['/', '/nonexistent', '/etc/passwd']) {
      const a = await api('POST', '/containers/create', { Image: 'busybox', Cmd: [cmd] });
      expect(a.status, `${cmd}: ${a.body}`).toBe(400);
      expect(JSON.parse(a.body).message).toMatch(/find the executable/);
    }
    expect(leftovers(t).filter((l) => !leftBefore.includes(l) && !l.startsWith('shim ') && !l.includes(victim))).toEqual([]);
  });

  it('very long names: refused with a 400 or taken (as dockerd), never a 500', async () => {
    for (const len of [255, 256, 5000]) {
      const n = 'v'.repeat(len);
      const vol = await api('POST', '/volumes/create', { Name: n });
      expect(vol.status, `volume ${len}: ${vol.body.slice(0, 300)}`).toBeOneOf([201, 400]);
      if (vol.status === 201) expect((await api('DELETE', `/volumes/${n}`)).status).toBe(204);
      const net = await api('POST', '/networks/create', { Name: n });
      expect(net.status, `network ${len}: ${net.body.slice(0, 300)}`).toBeOneOf([201, 400]);
      if (net.status === 201) expect((await api('DELETE', `/networks/${n}`)).status).toBe(204);
      const c = await api('POST', `/containers/create?name=${n}`, { Image: 'busybox', Cmd: ['true'] });
      expect(c.status, `container ${len}: ${c.body.slice(0, 300)}`).toBeOneOf([201, 400]);
      if (c.status === 201) expect((await api('DELETE', `/containers/${n}`)).status).toBe(204);
      const tag = await api('POST', `/images/busybox/tag?repo=${n}&tag=x`);
      expect(tag.status, `tag ${len}: ${tag.body.slice(0, 300)}`).toBeOneOf([201, 400]);
      if (tag.status === 201) expect((await api('DELETE', `/images/${n}:x`)).status).toBe(200);
    }
  });

  it('image references (tag, pull, inspect) are refused as invalid reference formats', async () => {
    for (const n of HOSTILE.filter((x) => x !== '-x')) {
      const q = encodeURIComponent(n);
      const tag = await api('POST', `/images/busybox/tag?repo=${q}&tag=x`);
      dockerError(tag, `tag ${JSON.stringify(n)}`);
      expect(tag.status, `${n}: ${tag.body}`).toBe(400);
      const tag2 = await api('POST', `/images/busybox/tag?repo=ok&tag=${q}`);
      expect(tag2.status, `tag ${n}: ${tag2.body}`).toBe(400);
      const pull = await api('POST', `/images/create?fromImage=${q}&tag=latest`);
      expect(pull.status, `pull ${n}: ${pull.body}`).toBe(400);
      expect(JSON.parse(pull.body).message).toMatch(/invalid reference format/);
    }
  });

  it('volume specs and binds that try to escape; log options that name a path', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ Binds: ['../x:/x'] }, /includes invalid characters for a local volume name|mount path must be absolute/],
      [{ Binds: ['a/../../b:/x'] }, /includes invalid characters for a local volume name/],
      [{ Binds: ['a/b:/x'] }, /includes invalid characters for a local volume name/],
      [{ Mounts: [{ Type: 'volume', Source: '../../x', Target: '/x' }] }, /invalid/],
      [{ Mounts: [{ Type: 'volume', Source: 'a/b', Target: '/x' }] }, /invalid/],
      [{ Mounts: [{ Type: 'bind', Source: 'rel/../x', Target: '/x' }] }, /mount path must be absolute/],
      [{ LogConfig: { Type: 'json-file', Config: { path: '/etc/x' } } }, /^unknown log opt 'path' for json-file log driver$/],
      [{ LogConfig: { Type: 'json-file', Config: { 'log-path': '../../x' } } }, /^unknown log opt 'log-path' for json-file log driver$/],
      [{ LogConfig: { Type: 'file', Config: {} } }, /^error looking up logging plugin file: plugin "file" not found$/],
      [{ LogConfig: { Type: '../../bin/sh', Config: {} } }, /^error looking up logging plugin \.\.\/\.\.\/bin\/sh: plugin "\.\.\/\.\.\/bin\/sh" not found$/],
      [{ LogConfig: { Type: 'syslog', Config: {} } }, /logging driver "syslog" is not supported/],
    ];
    for (const [hc, msg] of cases) {
      const a = await api('POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: hc });
      dockerError(a, JSON.stringify(hc));
      expect(a.status, `${JSON.stringify(hc)}: ${a.body}`).toBe(400);
      expect(JSON.parse(a.body).message, JSON.stringify(hc)).toMatch(msg);
    }
    expect(hostTop().filter((p) => !hostBefore.includes(p) && !/^\/tmp\/(tsd-test-|vitest|tsrun|registry)/.test(p))).toEqual([]);
    expect(existsSync(join(t.dataRoot, 'x')) || existsSync(join(t.dir, 'x')) || existsSync(join(t.dir, 'b'))).toBe(false);
  });
});

// -- a build context that tries to leave ------------------------------------

/** A ustar entry: type '0' file, '2' symlink, '5' directory. */
function tarEntry(name: string, type: '0' | '2' | '5', content = '', link = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(link, 157);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const data = Buffer.from(content);
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}
const tar = (entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)]);

describe('a build context that tries to leave its directory', () => {
  let secretDir: string;
  let secret: string;
  beforeAll(() => {
    secretDir = mkdtempSync(join(tmpdir(), 'tsd-secret-'));
    secret = join(secretDir, 'secret');
    writeFileSync(secret, 'HOST-SECRET-4711\n');
  });
  afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

  async function build(context: Buffer, tag: string): Promise<Answer> {
    return exchange([request('POST', `/build?t=${tag}&rm=1&forcerm=1`, context, { 'Content-Type': 'application/x-tar' })], { timeoutMs: 60_000 });
  }

  it('entries with ../ or absolute paths are refused, nothing written outside', async () => {
    const mark = `tsd-escape-${process.pid}`;
    for (const name of [`../../../../../../tmp/${mark}`, `/tmp/${mark}`, `a/../../../../../../../tmp/${mark}`]) {
      const a = await build(tar([tarEntry('Dockerfile', '0', 'FROM busybox\n'), tarEntry(name, '0', 'x')]), 'escape:1');
      if (name.startsWith('/')) {
        // As tar and dockerd: the leading / is dropped, the entry lands inside the context.
        expect(a.status, a.body).toBe(200);
      } else {
        expect(a.status, a.body).toBe(400);
        expect(JSON.parse(a.body).message).toMatch(/failed to read the build context: .*has a "\.\." component/);
      }
      expect(existsSync(`/tmp/${mark}`), name).toBe(false);
    }
    // A symlink to a directory outside, then a file written through it.
    const a = await build(tar([tarEntry('Dockerfile', '0', 'FROM busybox\n'), tarEntry('out', '2', '', secretDir), tarEntry('out/planted', '0', 'x')]), 'escape:2');
    expect(a.status, a.body).toBe(400);
    expect(JSON.parse(a.body).message).toMatch(/is a symlink; a layer never writes through one/);
    expect(readdirSync(secretDir)).toEqual(['secret']);
    await alive();
  }, 120_000);

  it('COPY through a symlink that points outside the context never reads the host file', async () => {
    for (const [link, copy] of [[secret, 'COPY leak /leak'], [`../../../../../../../../..${secret}`, 'COPY leak /leak'], [secretDir, 'COPY leak/secret /leak'], ['/', `COPY leak${secret} /leak`]]) {
      const df = `FROM busybox\n${copy}\n`;
      const a = await build(tar([tarEntry('Dockerfile', '0', df), tarEntry('leak', '2', '', link)]), 'leak:1');
      expect(a.body).not.toContain('HOST-SECRET');
      expect(a.body, `${link} ${copy}`).toMatch(/COPY failed: file not found in build context/);
      if (a.status === 200 && !/"error"/.test(a.body)) {
        const r = await t.docker(['run', '--rm', 'leak:1', 'cat', '/leak']);
        expect(r.stdout, `${link} ${copy}`).not.toContain('HOST-SECRET');
        const rl = await t.docker(['run', '--rm', 'leak:1', 'sh', '-c', 'cat /leak/* /leak 2>/dev/null; true']);
        expect(rl.stdout, `${link} ${copy}`).not.toContain('HOST-SECRET');
      }
      await t.docker(['rmi', '-f', 'leak:1']);
    }
    await alive();
  }, 120_000);
});

// -- the socket --------------------------------------------------------------

describe('the socket', () => {
  const asNobody = (path: string) => spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'docker', '-H', `unix://${path}`, 'version', '--format', '{{.Server.Version}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run = (p: ReturnType<typeof spawn>) => new Promise<{ code: number; out: string }>((res) => {
    let out = '';
    p.stdout!.on('data', (d) => (out += d));
    p.stderr!.on('data', (d) => (out += d));
    p.on('close', (code) => res({ code: code ?? -1, out }));
  });

  it('is 0660 root:root and refuses a user that is not root', async () => {
    const st = statSync(t.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    expect([st.uid, st.gid]).toEqual([0, 0]);
    chmodSync(t.dir, 0o711); // the temp dir is 0700: let nobody reach the socket itself
    try {
      const r = await run(asNobody(t.socket));
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/permission denied/i);
    } finally {
      chmodSync(t.dir, 0o700);
    }
  });

  it('is never world-connectable, even while it is being made under umask 000', async () => {
    // A watcher polls the socket's mode in a tight loop while tsd restarts under umask 000:
    // any mode with the others' write bit, however briefly, lets any user connect.
    const watcher = spawn('python3', ['-c', `
import os, stat, sys, time
end = time.time() + 20
seen = set()
while time.time() < end and not os.path.exists(sys.argv[2]):
    try:
        seen.add(oct(stat.S_IMODE(os.lstat(sys.argv[1]).st_mode)))
    except OSError:
        pass
print("modes", " ".join(sorted(seen)))
`, t.socket, join(t.dir, 'watch-done')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result = run(watcher);
    try {
      for (let i = 0; i < 5; i++) {
        await t.stop();
        await t.restart({ prefix: ['sh', '-c', 'umask 000; exec nsenter --net="$0" "$@"', ns.path] });
      }
    } finally {
      writeFileSync(join(t.dir, 'watch-done'), '');
    }
    pid = t.process().pid!;
    const r = await result;
    expect(r.out).toMatch(/^modes /);
    expect(r.out.split(/\s+/).slice(1).filter(Boolean).filter((m) => (parseInt(m.replace('0o', ''), 8) & 0o006) !== 0), r.out).toEqual([]);
    expect(statSync(t.socket).mode & 0o777).toBe(0o660);
    await alive();
  }, 60_000);

  it('--group gives a group access to the socket, as dockerd -G', async () => {
    const gid = Number(execFileSync('getent', ['group', 'nogroup'], { encoding: 'utf8' }).split(':')[2]);
    await t.stop();
    await t.restart({ prefix: ['sh', '-c', 'exec nsenter --net="$0" "$@" --group nogroup', ns.path] });
    pid = t.process().pid!;
    const st = statSync(t.socket);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o660, 0, gid]);
    chmodSync(t.dir, 0o711);
    try {
      const ok = await run(spawn('setpriv', ['--reuid=65534', `--regid=${gid}`, '--clear-groups', 'docker', '-H', `unix://${t.socket}`, 'version', '--format', '{{.Server.Version}}'], { stdio: ['ignore', 'pipe', 'pipe'] }));
      expect(ok.code, ok.out).toBe(0);
      const no = await run(asNobody(t.socket));
      expect(no.out).toMatch(/permission denied/i);
    } finally {
      chmodSync(t.dir, 0o700);
    }
    await t.stop();
    await t.restart({ prefix: ns.prefix() });
    pid = t.process().pid!;
  }, 60_000);
});
