// The real docker CLI against a private tsd: exec (exit codes, -i, -t under a
// pty, -d, inspect, events), pause/unpause, top, rename — and nothing left
// behind afterwards.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftovers, startTsd, type Tsd } from './tsd.js';

let t: Tsd;

beforeAll(async () => {
  // TSD_TEST_RUNTIME=/usr/sbin/runc runs the same tests over another runc-compatible runtime.
  t = await startTsd(process.env.TSD_TEST_RUNTIME ? ['--runtime', process.env.TSD_TEST_RUNTIME] : []);
  expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
});

afterAll(async () => {
  const ids = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
  if (ids.length) await t.docker(['rm', '-f', ...ids]);
  const left = leftovers(t);
  await t.close();
  expect(left).toEqual([]);
});

const IMAGE = 'busybox';

async function events(since: number, filter: string): Promise<string[]> {
  const r = await t.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', filter, '--format', '{{.Action}} {{json .Actor.Attributes}}']);
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

const sleeper = async (name: string) => {
  const run = await t.docker(['run', '-d', '--name', name, IMAGE, 'sleep', '1000']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout.trim();
};

describe('docker exec, pause, top, rename against tsd', () => {
  it('exec: output, stderr apart, the exit code, -e -w -u; exec inspect; the events', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await sleeper('ex1');
    expect(await t.docker(['exec', 'ex1', 'echo', 'hi'])).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(await t.docker(['exec', 'ex1', 'sh', '-c', 'echo out; echo err >&2; exit 7'])).toEqual({ code: 7, stdout: 'out\n', stderr: 'err\n' });
    const env = await t.docker(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1001', 'ex1', 'sh', '-c', 'echo $FOO; pwd; id -u; id -g']);
    expect(env).toEqual({ code: 0, stdout: 'bar\n/tmp\n1000\n1001\n', stderr: '' });
    // Many execs in a row, each with its own output.
    for (let i = 0; i < 5; i++) expect((await t.docker(['exec', 'ex1', 'echo', String(i)])).stdout).toBe(`${i}\n`);
    // As Docker: a program that is not there is exit code 127 with the runtime's message; the exec does not start twice.
    const missing = await t.docker(['exec', 'ex1', '/no/such/binary']);
    expect(missing.code).toBe(127);
    expect(missing.stdout).toMatch(/^OCI runtime exec failed: .*\/no\/such\/binary/);
    expect((await t.docker(['exec', 'nosuch', 'true'])).stderr).toMatch(/No such container: nosuch/);
    // A user by name, from the container's /etc/passwd.
    expect((await t.docker(['exec', 'ex1', 'sh', '-c', 'mkdir -p /etc; echo "tester:x:1234:1235::/:/bin/sh" >> /etc/passwd'])).code).toBe(0);
    expect((await t.docker(['exec', '-u', 'tester', 'ex1', 'sh', '-c', 'id -u; id -g'])).stdout).toBe('1234\n1235\n');
    expect((await t.docker(['exec', '-u', 'nosuchuser', 'ex1', 'true'])).stdout).toMatch(/unable to find user nosuchuser/);
    const evs = await events(since, `container=${id}`);
    const execEvents = evs.filter((e) => e.startsWith('exec_'));
    expect(execEvents.some((e) => e.startsWith('exec_create: sh -c echo out; echo err >&2; exit 7 '))).toBe(true);
    expect(execEvents.some((e) => e.startsWith('exec_start: echo hi '))).toBe(true);
    expect(execEvents.filter((e) => e.startsWith('exec_die ') && e.includes('"exitCode":"7"')).length).toBe(1);
    const onlyDie = await events(since, 'event=exec_die');
    expect(onlyDie.length).toBe(execEvents.filter((e) => e.startsWith('exec_die')).length);
    expect((await events(since, 'event=exec_create')).length).toBe(execEvents.filter((e) => e.startsWith('exec_create')).length);
  });

  it('exec -i passes stdin and its end', async () => {
    await sleeper('ex2');
    const r = await t.docker(['exec', '-i', 'ex2', 'sh', '-c', 'cat; echo done'], { input: 'one\ntwo\n' });
    expect(r).toEqual({ code: 0, stdout: 'one\ntwo\ndone\n', stderr: '' });
    // Without -i the exec's stdin is empty.
    expect(await t.docker(['exec', 'ex2', 'sh', '-c', 'cat; echo end'], { input: 'ignored\n' })).toEqual({ code: 0, stdout: 'end\n', stderr: '' });
  });

  it('exec -t gets a pty (tty prints /dev/pts/N), its size, and its exit code', async () => {
    await sleeper('ex3');
    const r = await t.underPty('docker exec -t ex3 tty');
    expect(r, JSON.stringify(r)).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/^\/dev\/pts\/\d+\r*\n$/);
    // The CLI (API 1.41) resizes the exec's pty right after the start: the client's terminal size arrives.
    const it = await t.underPty('stty cols 100 rows 30; docker exec -it ex3 sh -c "sleep 1; stty size; exit 4"');
    expect(it.code).toBe(4);
    expect(it.stdout).toMatch(/30 100\r*\n$/);
  });

  it('exec -d runs in the background, drained: a chatty one finishes; exec inspect has its exit code', async () => {
    await sleeper('ex4');
    const d = await t.docker(['exec', '-d', 'ex4', 'sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo line $i of a detached exec that writes far more than a pipe holds; i=$((i+1)); done; echo finished > /tmp/d']);
    expect(d).toEqual({ code: 0, stdout: '', stderr: '' });
    let out = '';
    for (let i = 0; i < 50 && out !== 'finished\n'; i++) {
      out = (await t.docker(['exec', 'ex4', 'cat', '/tmp/d'])).stdout;
      if (out !== 'finished\n') await new Promise((r) => setTimeout(r, 100));
    }
    expect(out).toBe('finished\n');
    // The API: create, start (detached), inspect.
    const api = async (method: string, path: string, body?: unknown) => {
      const { request } = await import('node:http');
      return new Promise<{ status: number; json: unknown }>((res, rej) => {
        const q = request({ socketPath: t.socket, method, path, headers: { 'Content-Type': 'application/json' } }, (r) => {
          let s = '';
          r.on('data', (c) => (s += c));
          r.on('end', () => res({ status: r.statusCode ?? 0, json: s ? JSON.parse(s) : undefined }));
        });
        q.on('error', rej);
        q.end(body === undefined ? undefined : JSON.stringify(body));
      });
    };
    const created = await api('POST', '/v1.41/containers/ex4/exec', { Cmd: ['sh', '-c', 'exit 5'] });
    expect(created.status).toBe(201);
    const execId = (created.json as { Id: string }).Id;
    const before = (await api('GET', `/v1.41/exec/${execId}/json`)).json as { Running: boolean; ExitCode: number | null };
    expect(before).toMatchObject({ Running: false, ExitCode: null });
    expect((await api('POST', `/v1.41/exec/${execId}/start`, { Detach: true })).status).toBe(200);
    let info = { Running: true, ExitCode: null as number | null, Pid: 0 };
    for (let i = 0; i < 50 && info.Running; i++) {
      info = (await api('GET', `/v1.41/exec/${execId}/json`)).json as typeof info;
      if (info.Running) await new Promise((r) => setTimeout(r, 100));
    }
    expect(info).toMatchObject({ Running: false, ExitCode: 5 });
    expect((await api('POST', `/v1.41/exec/${execId}/start`, { Detach: true })).status).toBe(409);
    expect((await api('GET', '/v1.41/exec/nosuch/json')).status).toBe(404);
    expect((await api('POST', '/v1.41/containers/ex4/exec', { Cmd: 'true', Env: 'x' })).status).toBe(400);
    expect((await api('POST', '/v1.41/containers/ex4/exec', { Cmd: [] })).status).toBe(400);
  });

  it('pause and unpause: ps says Paused, inspect State.Paused, exec refused, the events; stop of a paused container', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await sleeper('pz');
    expect(await t.docker(['pause', 'pz'])).toEqual({ code: 0, stdout: 'pz\n', stderr: '' });
    expect((await t.docker(['ps', '--filter', 'name=pz', '--format', '{{.Status}}'])).stdout).toMatch(/^Up .* \(Paused\)\n$/);
    expect((await t.docker(['inspect', 'pz', '--format', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}'])).stdout).toBe('paused true true\n');
    expect((await t.docker(['ps', '--filter', 'status=paused', '--format', '{{.Names}} {{.State}}'])).stdout).toBe('pz paused\n');
    expect((await t.docker(['info', '--format', '{{.ContainersPaused}}'])).stdout).toBe('1\n');
    const ex = await t.docker(['exec', 'pz', 'true']);
    expect(ex.code).not.toBe(0);
    expect(ex.stderr).toMatch(/is paused, unpause the container before exec/);
    expect((await t.docker(['pause', 'pz'])).stderr).toMatch(/already paused/);
    expect((await t.docker(['unpause', 'pz'])).code).toBe(0);
    expect((await t.docker(['inspect', 'pz', '--format', '{{.State.Status}} {{.State.Paused}}'])).stdout).toBe('running false\n');
    expect((await t.docker(['unpause', 'pz'])).stderr).toMatch(/is not paused/);
    expect(await t.docker(['exec', 'pz', 'echo', 'thawed'])).toEqual({ code: 0, stdout: 'thawed\n', stderr: '' });
    const evs = (await events(since, `container=${id}`)).map((e) => e.split(' ')[0]);
    expect(evs.filter((e) => e === 'pause' || e === 'unpause')).toEqual(['pause', 'unpause']);
    // Docker stops a paused container: the signal, then a resume so it is delivered.
    expect((await t.docker(['pause', 'pz'])).code).toBe(0);
    const stop = await t.docker(['stop', '-t', '1', 'pz']);
    expect(stop).toEqual({ code: 0, stdout: 'pz\n', stderr: '' });
    expect((await t.docker(['inspect', 'pz', '--format', '{{.State.Status}} {{.State.Paused}}'])).stdout).toBe('exited false\n');
    expect((await t.docker(['pause', 'pz'])).stderr).toMatch(/is not running/);
  });

  it('top: ps -ef columns of the container\'s processes', async () => {
    await sleeper('tp');
    await t.docker(['exec', '-d', 'tp', 'sleep', '777']);
    let top = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 30; i++) {
      top = await t.docker(['top', 'tp']);
      if (top.stdout.includes('sleep 777')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(top.stderr).toBe('');
    const [header, ...rows] = top.stdout.trim().split('\n');
    expect(header.trim().split(/\s+/)).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    const cmds = rows.map((r) => r.trim().split(/\s+/).slice(7).join(' '));
    expect(cmds).toContain('sleep 1000');
    expect(cmds).toContain('sleep 777');
    const first = rows[0].trim().split(/\s+/);
    expect(first[0]).toBe('root');
    expect(first[1]).toBe((await t.docker(['inspect', 'tp', '--format', '{{.State.Pid}}'])).stdout.trim());
    expect(first[5]).toBe('?');
    expect(first[6]).toMatch(/^\d\d:\d\d:\d\d$/);
    expect((await t.docker(['top', 'tp', 'aux'])).stderr).toMatch(/ps_args: only the default/);
    expect((await t.docker(['top', 'nosuch'])).stderr).toMatch(/No such container/);
  });

  it('exec of a container that is not running is refused; exec works on a container from before a tsd restart', async () => {
    expect((await t.docker(['run', '--name', 'gone', IMAGE, 'true'])).code).toBe(0);
    const r = await t.docker(['exec', 'gone', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not running/);
    await sleeper('survivor');
    await t.stop();
    await t.restart();
    expect(await t.docker(['exec', 'survivor', 'sh', '-c', 'echo still here; exit 3'])).toEqual({ code: 3, stdout: 'still here\n', stderr: '' });
    expect((await t.docker(['top', 'survivor'])).stdout).toMatch(/sleep 1000/);
  });

  it('rename: the new name works, the old does not, a taken name is a conflict, the event', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await sleeper('rn1');
    await sleeper('rn2');
    expect(await t.docker(['rename', 'rn1', 'rn3'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await t.docker(['inspect', 'rn3', '--format', '{{.Name}} {{.Id}}'])).stdout).toBe(`/rn3 ${id}\n`);
    expect((await t.docker(['inspect', 'rn1'])).code).toBe(1);
    const taken = await t.docker(['rename', 'rn3', 'rn2']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/Conflict\. The container name "\/rn2" is already in use/);
    expect((await t.docker(['rename', 'rn3', 'bad/name'])).stderr).toMatch(/Invalid container name/);
    expect((await t.docker(['exec', 'rn3', 'echo', 'ok'])).stdout).toBe('ok\n');
    // The old name is free again.
    await sleeper('rn1');
    const evs = await events(since, 'event=rename');
    expect(evs).toHaveLength(1);
    expect(JSON.parse(evs[0].slice('rename '.length))).toMatchObject({ name: 'rn3', oldName: '/rn1' });
  });
});
