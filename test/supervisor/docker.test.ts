// The real docker CLI against a private tsd: system, images, containers
// through tsrun-shim, and nothing left behind afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;

/** The runtime binary tsd drives (docker.runc.test.ts runs this file again with runc); unset: tsd's default, bin/tsrun. */
const RUNTIME = process.env.TSD_TEST_RUNTIME;

beforeAll(async () => {
  t = await startTsd(RUNTIME ? ['--runtime', RUNTIME] : []);
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

const IMAGE = 'busybox';

describe(`tsd with the docker CLI${RUNTIME ? ` over --runtime ${RUNTIME}` : ''}`, () => {
  it('version and info: API 1.41, the server is tsrun', async () => {
    const v = await t.docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Platform.Name}}']);
    expect(v.stderr).toBe('');
    expect(v.stdout.trim()).toBe('1.41 tsrun');
    const info = await t.docker(['info', '--format', '{{.Containers}} {{.DockerRootDir}} {{.LoggingDriver}}']);
    expect(info.stdout.trim()).toBe(`0 ${t.dataRoot} json-file`);
  });

  it('pulls through the registry mirror with Docker\'s progress, lists, inspects and tags images', async () => {
    const pull = await t.docker(['pull', IMAGE]);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    expect(pull.stdout).toMatch(/Pull complete/);
    expect(pull.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}/);
    expect(pull.stdout).toMatch(/Status: Downloaded newer image for busybox:latest/);
    const images = await t.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(images.stdout.trim().split('\n')).toContain('busybox:latest');
    const id = (await t.docker(['image', 'inspect', IMAGE, '--format', '{{.Id}} {{.Os}}'])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64} linux$/);
    expect((await t.docker(['tag', IMAGE, 'mybox:1'])).code).toBe(0);
    expect((await t.docker(['image', 'inspect', 'mybox:1', '--format', '{{.Id}} {{.Os}}'])).stdout.trim()).toBe(id);
    const rmi = await t.docker(['rmi', 'mybox:1']);
    expect(rmi.stdout).toContain('Untagged: mybox:1');
    const missing = await t.docker(['image', 'inspect', 'nosuch:image']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No such image/);
  });

  it('run --rm: stdout, the exit code, stdout and stderr apart', async () => {
    const hi = await t.docker(['run', '--rm', IMAGE, 'echo', 'hi']);
    expect(hi).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    const three = await t.docker(['run', '--rm', IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(three).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  });

  it('run -e, -w, -u, -v (a bind mount), --hostname', async () => {
    const { mkdtempSync, writeFileSync, rmSync, chmodSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/tsd-bind-');
    try {
      chmodSync(dir, 0o755);
      writeFileSync(`${dir}/f`, 'from the host\n');
      const r = await t.docker(['run', '--rm', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', '-v', `${dir}:/data:ro`, '--hostname', 'box', IMAGE,
        'sh', '-c', 'echo $FOO; pwd; id -u; id -g; cat /data/f; hostname; touch /data/g 2>/dev/null || echo read-only']);
      expect(r).toEqual({ code: 0, stdout: 'bar\n/tmp\n1000\n1000\nfrom the host\nbox\nread-only\n', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--log-opt max-size/max-file: the shim rotates the json-file log; an unknown opt is refused', async () => {
    const { readdirSync } = await import('node:fs');
    const id = (await t.docker(['run', '-d', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=2', IMAGE, 'sh', '-c', 'for i in $(seq 1 400); do echo line $i; done'])).stdout.trim();
    expect((await t.docker(['wait', id])).stdout.trim()).toBe('0');
    const opts = await t.docker(['inspect', id, '--format', '{{json .HostConfig.LogConfig}}']);
    expect(JSON.parse(opts.stdout)).toEqual({ Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '2' } });
    const logs = (await t.docker(['logs', id])).stdout.trim().split('\n');
    // Two files of at most 2 KiB: the last lines, none of the first.
    expect(logs.at(-1)).toBe('line 400');
    expect(logs.length).toBeLessThan(400);
    expect(logs).not.toContain('line 1');
    const files = readdirSync(`${t.execRoot}/${id}`).filter((f) => f.startsWith('json.log'));
    expect(files.sort()).toEqual(['json.log', 'json.log.1']);
    await t.docker(['rm', id]);
    const bad = await t.docker(['run', '--rm', '--log-opt', 'max-bytes=1', IMAGE, 'true']);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toMatch(/unknown log opt 'max-bytes' for json-file log driver/);
  });

  it('run -i passes stdin, and its end', async () => {
    const r = await t.docker(['run', '--rm', '-i', IMAGE, 'sh', '-c', 'cat; echo done'], { input: 'one\ntwo\n' });
    expect(r).toEqual({ code: 0, stdout: 'one\ntwo\ndone\n', stderr: '' });
  });

  it('-d, ps, logs, logs -f, stop, inspect, wait, rm', async () => {
    const run = await t.docker(['run', '-d', '--name', 'ticker', '--label', 'role=test', IMAGE, 'sh', '-c', 'trap "echo bye; exit 0" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done']);
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = await t.docker(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}}', '--filter', 'label=role=test']);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)} ticker Up `));
    await new Promise((r) => setTimeout(r, 700));
    const logs = await t.docker(['logs', 'ticker']);
    expect(logs.stdout.split('\n').slice(0, 2)).toEqual(['tick 0', 'tick 1']);
    const tail = await t.docker(['logs', '--tail', '1', '-t', id.slice(0, 6)]);
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z tick \d+\n$/);
    // A follow ends when the container stops.
    const follow = t.docker(['logs', '-f', '--tail', '0', 'ticker']);
    await new Promise((r) => setTimeout(r, 500));
    const stop = await t.docker(['stop', 'ticker']);
    expect(stop).toEqual({ code: 0, stdout: 'ticker\n', stderr: '' });
    const followed = await follow;
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/tick \d+\n/);
    expect(followed.stdout.trimEnd().endsWith('bye')).toBe(true);
    const state = await t.docker(['inspect', 'ticker', '--format', '{{.Id}} {{.Name}} {{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}} {{.Config.Image}} {{index .Config.Labels "role"}}']);
    expect(state.stdout.trim()).toBe(`${id} /ticker exited false 0 0 busybox test`);
    const times = JSON.parse((await t.docker(['inspect', 'ticker'])).stdout)[0].State;
    expect(Date.parse(times.FinishedAt)).toBeGreaterThan(Date.parse(times.StartedAt));
    expect((await t.docker(['wait', 'ticker'])).stdout).toBe('0\n');
    expect((await t.docker(['ps', '-a', '--format', '{{.Status}}', '--filter', 'name=ticker'])).stdout).toMatch(/^Exited \(0\) /);
    expect((await t.docker(['rm', 'ticker'])).stdout).toBe('ticker\n');
    expect((await t.docker(['inspect', 'ticker'])).code).toBe(1);
  });

  it('a name in use is refused with Docker\'s 409 message', async () => {
    const first = await t.docker(['create', '--name', 'twice', IMAGE, 'true']);
    expect(first.code).toBe(0);
    const second = await t.docker(['create', '--name', 'twice', IMAGE, 'true']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`Conflict. The container name "/twice" is already in use by container "${first.stdout.trim()}". You have to remove (or rename) that container to be able to reuse that name.`);
    const created = await t.docker(['inspect', 'twice', '--format', '{{.State.Status}}']);
    expect(created.stdout.trim()).toBe('created');
    expect((await t.docker(['rm', 'twice'])).code).toBe(0);
  });

  it('wait returns the exit code; rm of a running container needs -f', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'sleep 0.3; exit 7'])).stdout.trim();
    expect(await t.docker(['wait', id])).toEqual({ code: 0, stdout: '7\n', stderr: '' });
    await t.docker(['rm', id]);
    const long = (await t.docker(['run', '-d', '--name', 'sleeper', IMAGE, 'sleep', '100'])).stdout.trim();
    const refused = await t.docker(['rm', 'sleeper']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`You cannot remove a running container ${long}`);
    expect((await t.docker(['rm', '-f', 'sleeper'])).code).toBe(0);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  });

  it('an unknown container is a 404, bad input a 400 naming the parameter', async () => {
    const r = await t.docker(['stop', 'nosuch']);
    expect(r.stderr).toContain('No such container: nosuch');
    const bad = await t.docker(['run', '--rm', '--network', 'bridge2', IMAGE, 'true']);
    expect(bad.code).toBe(125);
    // dockerd's 404 for an unknown network (the CLI takes it for a missing image, pulls, and tries again).
    expect(bad.stderr).toContain('network bridge2 not found');
  });

  it('SIGTERM stops tsd and leaves a container running; the next tsd reconnects and stops it', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'trap "exit 5" TERM; while true; do sleep 0.1; done'])).stdout.trim();
    await t.stop();
    await t.restart();
    const ps = await t.docker(['ps', '--format', '{{.ID}} {{.Status}}']);
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)} Up `));
    await t.docker(['stop', id]);
    expect((await t.docker(['inspect', id, '--format', '{{.State.ExitCode}}'])).stdout.trim()).toBe('5');
    await t.docker(['rm', id]);
  });

  it('kill -9 of tsd: a container that exits meanwhile has its real exit code when tsd is back', async () => {
    const id = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'sleep 1; exit 4'])).stdout.trim();
    const killed = new Promise((r) => t.process().once('exit', r));
    t.process().kill('SIGKILL');
    await killed;
    await new Promise((r) => setTimeout(r, 1500));
    await t.restart();
    expect((await t.docker(['inspect', id, '--format', '{{.State.Status}} {{.State.ExitCode}}'])).stdout.trim()).toBe('exited 4');
    expect((await t.docker(['wait', id])).stdout).toBe('4\n');
    await t.docker(['rm', id]);
  });

  it('events: create, start, die with its exit code, destroy', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = (await t.docker(['run', '-d', IMAGE, 'sh', '-c', 'exit 2'])).stdout.trim();
    await t.docker(['wait', id]);
    await t.docker(['rm', id]);
    const ev = await t.docker(['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}{{if eq .Action "die"}} {{index .Actor.Attributes "exitCode"}}{{end}}']);
    expect(ev.stdout.trim().split('\n')).toEqual(['create', 'start', 'die 2', 'destroy']);
  });

  it('a second tsd on the same data root refuses, naming the holder', async () => {
    const { spawn } = await import('node:child_process');
    const p = spawn(new URL('../../bin/tsd', import.meta.url).pathname, ['-H', `unix://${t.dir}/other.sock`, '--data-root', t.dataRoot, '--exec-root', `${t.dir}/exec2`, '--pidfile', `${t.dir}/other.pid`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => p.on('close', r));
    expect(code).toBe(1);
    expect(err).toContain(`is in use by tsd pid ${t.process().pid} (pidfile ${t.dir}/tsd.pid)`);
  });
});
