// Bad input against a private tsd: each refusal has Docker's status and
// message, and leaves nothing behind (no record, snapshot, mount, cgroup,
// shim or process). The real docker CLI where it can send the case; raw HTTP
// over the unix socket (node:http with socketPath) where it cannot.
import { request } from 'node:http';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, leftovers, startTsd, type Tsd } from './tsd.js';

let t: Tsd;

beforeAll(async () => {
  t = await startTsd();
  expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

interface Answer { status: number; body: string }

/** One request over tsd's socket, the body sent as given (malformed on purpose where a test wants it). */
function api(tsd: Tsd, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: tsd.socket, method, path: `/v1.41${path}`, headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const message = (a: Answer) => (JSON.parse(a.body) as { message: string }).message;
const containerCount = async () => (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean).length;

describe('bad input: Docker\'s status and message, nothing left behind', () => {
  it('a malformed JSON body is a 400', async () => {
    const r = await api(t, 'POST', '/containers/create', '{"Image": "busybox",');
    expect(r.status).toBe(400);
    expect(message(r)).toMatch(/invalid JSON/);
    const empty = await api(t, 'POST', '/containers/create', '');
    expect(empty.status).toBe(400);
    expect(message(empty)).toBe('config cannot be empty in order to create a container');
    expect(await containerCount()).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('a field of the wrong type is a 400 naming the field and its Go type, as dockerd\'s decoder does', async () => {
    const cases: [unknown, string][] = [
      [{ Image: 'busybox', Tty: 'yes' }, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Tty of type bool'],
      [{ Image: 'busybox', HostConfig: { Memory: '1g' } }, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig.Memory of type int64'],
      [{ Image: 'busybox', Env: ['A=1', 2] }, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type string'],
      [{ Image: 'busybox', Labels: { a: 1 } }, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Labels.a of type string'],
      [{ Image: 'busybox', StopTimeout: 1.5 }, 'json: cannot unmarshal number 1.5 into Go struct field ContainerConfigWrapper.StopTimeout of type int'],
      [{ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 'x' } } }, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig.RestartPolicy.MaximumRetryCount of type int'],
      [{ Image: 'busybox', NetworkingConfig: { EndpointsConfig: { none: 'x' } } }, 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.NetworkingConfig.EndpointsConfig.none of type network.EndpointSettings'],
      [{ Image: 7 }, 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Image of type string'],
      [['busybox'], 'json: cannot unmarshal array into Go value of type container.ContainerConfigWrapper'],
    ];
    for (const [body, want] of cases) {
      const r = await api(t, 'POST', '/containers/create', JSON.stringify(body));
      expect({ body, status: r.status, message: message(r) }).toEqual({ body, status: 400, message: want });
    }
    expect(await containerCount()).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('unknown fields are ignored, null is a zero value and a string Cmd is one argument, as Docker has them', async () => {
    const r = await api(t, 'POST', '/containers/create?name=lenient', JSON.stringify({ Image: 'busybox', Cmd: 'true', Env: null, NoSuchField: { x: 1 }, HostConfig: { Binds: null, Frobnicate: 3 } }));
    expect(r.status).toBe(201);
    expect((await t.docker(['inspect', 'lenient', '--format', '{{.Path}} {{json .Args}}'])).stdout.trim()).toBe('true []');
    expect((await t.docker(['rm', 'lenient'])).code).toBe(0);
  });

  it('a name in use is a 409 with Docker\'s message, and the refused run leaves nothing', async () => {
    const first = await t.docker(['create', '--name', 'taken', 'busybox', 'true']);
    expect(first.code).toBe(0);
    const id = first.stdout.trim();
    const again = await t.docker(['run', '--rm', '--name', 'taken', 'busybox', 'true']);
    expect(again.code).toBe(125);
    expect(again.stderr).toContain(`Conflict. The container name "/taken" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const raw = await api(t, 'POST', '/containers/create?name=taken', JSON.stringify({ Image: 'busybox' }));
    expect(raw.status).toBe(409);
    expect(await containerCount()).toBe(1);
    expect((await t.docker(['rm', 'taken'])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('an invalid name is a 400', async () => {
    const r = await t.docker(['create', '--name', 'no good!', 'busybox', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Invalid container name (no good!), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    const raw = await api(t, 'POST', `/containers/create?name=${encodeURIComponent('-dash')}`, JSON.stringify({ Image: 'busybox' }));
    expect(raw.status).toBe(400);
    expect(await containerCount()).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('an image that does not exist: create is a 404 "No such image", docker run pulls and reports the registry\'s answer', async () => {
    const raw = await api(t, 'POST', '/containers/create', JSON.stringify({ Image: 'nosuch/image' }));
    expect(raw.status).toBe(404);
    expect(message(raw)).toBe('No such image: nosuch/image:latest');
    // From the private registry itself, so the failure is its answer (no network needed).
    const ref = `${t.registry.host}/nosuch/image`;
    const run = await t.docker(['run', '--rm', ref, 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toContain(`Unable to find image '${ref}:latest' locally`);
    expect(run.stderr).toContain(`docker: Error response from daemon: manifest for ${ref}:latest not found: manifest unknown: manifest unknown\n`);
    expect(await containerCount()).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('an ID prefix that matches two containers is Docker\'s 400', async () => {
    // 17 IDs share a first hex digit somewhere (pigeonhole); stop at the first pair.
    const ids: string[] = [];
    let prefix = '';
    while (!prefix) {
      const c = await t.docker(['create', 'busybox', 'true']);
      expect(c.code).toBe(0);
      const id = c.stdout.trim();
      if (ids.some((o) => o[0] === id[0])) prefix = id[0];
      ids.push(id);
    }
    const rm = await t.docker(['rm', prefix]);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toContain(`Error response from daemon: Multiple IDs found with provided prefix: ${prefix}`);
    const raw = await api(t, 'GET', `/containers/${prefix}/json`);
    expect(raw.status).toBe(400);
    expect(await containerCount()).toBe(ids.length);
    expect((await t.docker(['rm', ...ids])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });

  it('a client that disconnects mid-attach: the container keeps running and the daemon answers', async () => {
    const id = (await t.docker(['run', '-d', '--name', 'chatty', 'busybox', 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done'])).stdout.trim();
    // The real CLI, killed (SIGKILL) while attached.
    const cli = await t.docker(['attach', 'chatty'], { timeoutMs: 1000 });
    expect(cli.stdout).toMatch(/line \d+\n/);
    // A raw client that drops the socket after its first output.
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: t.socket, method: 'POST', path: '/v1.41/containers/chatty/attach?stream=1&stdout=1&stderr=1&stdin=1', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
      req.on('upgrade', (_res, socket: Duplex) => socket.once('data', () => {
        socket.destroy();
        resolve();
      }));
      req.on('error', reject);
      req.end();
    });
    await new Promise((r) => setTimeout(r, 500));
    const state = await t.docker(['inspect', 'chatty', '--format', '{{.State.Status}} {{.State.Running}}']);
    expect(state.stdout.trim()).toBe('running true');
    const before = (await t.docker(['logs', 'chatty'])).stdout.split('\n').length;
    await new Promise((r) => setTimeout(r, 500));
    expect((await t.docker(['logs', 'chatty'])).stdout.split('\n').length).toBeGreaterThan(before);
    // A new attach still gets output.
    expect((await t.docker(['attach', 'chatty'], { timeoutMs: 1000 })).stdout).toMatch(/line \d+\n/);
    expect((await t.docker(['rm', '-f', id])).code).toBe(0);
    expect(leftovers(t)).toEqual([]);
  });
});

// A script that exits 1 with a message, and a path where no binary is (the shim cannot run it).
describe.each([
  ['a script that exits 1', true, /failing-runtime: cannot .*create/],
  ['a binary that does not exist', false, /nonexistent-runtime/],
])('a runtime that fails at create: %s', (_what, script, wanted) => {
  let bad: Tsd;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsd-badruntime-'));
    chmodSync(dir, 0o755);
    let runtime = join(dir, 'nonexistent-runtime');
    if (script) {
      runtime = join(dir, 'failing-runtime');
      writeFileSync(runtime, '#!/bin/sh\necho "failing-runtime: cannot $* today" >&2\nexit 1\n');
      chmodSync(runtime, 0o755);
    }
    bad = await startTsd(['--runtime', runtime]);
    expect((await bad.docker(['pull', 'busybox'])).code).toBe(0);
  });

  afterAll(async () => {
    const left = leftovers(bad);
    const ids = (await bad.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await bad.docker(['rm', '-f', ...ids]);
    await bad.close();
    rmSync(dir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('is a 500 with the runtime\'s message, and nothing is left (no record, snapshot mount, shim, cgroup)', async () => {
    const run = await bad.docker(['run', '--rm', '--name', 'doomed', 'busybox', 'true']);
    expect(run.code).toBe(125);
    expect(run.stderr).toMatch(/Error response from daemon: /);
    expect(run.stderr).toMatch(wanted);
    const raw = await api(bad, 'POST', '/containers/create?name=doomed', JSON.stringify({ Image: 'busybox', Cmd: ['true'] }));
    expect(raw.status).toBe(500);
    expect(message(raw)).toMatch(wanted);
    // The name was given back, and nothing of either create stays.
    expect((await bad.docker(['ps', '-aq'])).stdout).toBe('');
    expect(leftovers(bad)).toEqual([]);
  });
});
