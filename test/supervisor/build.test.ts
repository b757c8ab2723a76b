// docker build (the classic builder, DOCKER_BUILDKIT=0) and docker commit
// with the real docker CLI against a private tsd: each instruction's effect
// seen by docker run and docker inspect, a deletion of a base layer's file
// invisible in the container, the cache (unchanged, after touch, after a
// change from the changed step on, --no-cache), multi-stage COPY --from and
// --target, -q and --iidfile, FROM scratch, a failing RUN and a syntax error
// that leave nothing behind, a cancelled build, ONBUILD, commit then run,
// the 20.10 CLI and docker-compose.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;

/** A build context directory with these files. */
function context(name: string, files: Record<string, string>): string {
  const dir = join(t.dir, 'ctx', name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const build = (args: string[]) => t.docker(['build', ...args], { timeoutMs: 90_000 });

/** Active (writable) snapshots of tsd's snapshotter: a step container's layer that was left. */
function activeSnapshots(): string[] {
  const dir = join(t.dataRoot, 'snapshots', 'overlay', 'snapshots');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((id) => {
    try {
      const info = JSON.parse(readFileSync(join(dir, id, 'info.json'), 'utf8')) as { kind: string; name: string };
      return info.kind === 'active' ? [info.name] : [];
    } catch {
      return [`${id} without info.json`];
    }
  });
}

const buildTemps = () => (existsSync(join(t.dataRoot, 'build', 'tmp')) ? readdirSync(join(t.dataRoot, 'build', 'tmp')) : []);

beforeAll(async () => {
  process.env.DOCKER_BUILDKIT = '0';
  t = await startTsd();
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

const APP = `FROM busybox
ARG GREETING=hello
ENV APP_HOME=/srv/app \\
    MODE=test
LABEL org.example.tier=web version="1.0"
EXPOSE 8080 9000/udp
WORKDIR $APP_HOME
COPY app.sh ./
COPY conf/ /etc/app/
RUN echo "$GREETING from $MODE" > made.txt && chmod 755 app.sh
RUN rm /etc/group && test ! -e /etc/group
USER 1000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/srv/app/app.sh"]
CMD ["world"]
`;

describe('docker build', () => {
  let ctx: string;

  it('builds a multi-instruction Dockerfile whose effects docker run and docker inspect see', async () => {
    ctx = context('app', { Dockerfile: APP, 'app.sh': '#!/bin/sh\necho "args: $*"; cat /srv/app/made.txt; id -u; pwd\n', 'conf/a.conf': 'a=1\n' });
    const r = await build(['-t', 'app:1', '-t', 'app:latest', ctx]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Step 1/14 : FROM busybox\n');
    expect(r.stdout).toMatch(/Step 9\/14 : RUN echo "\$GREETING from \$MODE" > made.txt && chmod 755 app.sh\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}\n/);
    expect(r.stdout).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\nSuccessfully tagged app:latest\n/);
    const run = await t.docker(['run', '--rm', 'app:1']);
    expect(run.stdout).toBe('args: world\nhello from test\n1000\n/srv/app\n');
    const ls = await t.docker(['run', '--rm', '--entrypoint', 'sh', 'app:1', '-c', 'ls /etc; cat /etc/app/a.conf; stat -c "%u:%g %a" /srv/app/app.sh /etc/app/a.conf']);
    expect(ls.stdout).not.toMatch(/^group$/m);
    expect(ls.stdout).toContain('passwd\n');
    expect(ls.stdout).toContain('a=1\n0:0 755\n0:0 644\n');
    const inspect = JSON.parse((await t.docker(['image', 'inspect', 'app:1'])).stdout)[0];
    expect(inspect.Config.Env).toEqual(expect.arrayContaining(['APP_HOME=/srv/app', 'MODE=test']));
    expect(inspect.Config.Env.some((e: string) => e.startsWith('GREETING='))).toBe(false);
    expect(inspect.Config.WorkingDir).toBe('/srv/app');
    expect(inspect.Config.User).toBe('1000');
    expect(inspect.Config.Entrypoint).toEqual(['/srv/app/app.sh']);
    expect(inspect.Config.Cmd).toEqual(['world']);
    expect(inspect.Config.Labels).toEqual({ 'org.example.tier': 'web', version: '1.0' });
    expect(Object.keys(inspect.Config.ExposedPorts).sort()).toEqual(['8080/tcp', '9000/udp']);
    expect(inspect.Config.StopSignal).toBe('SIGTERM');
    // busybox's layer, then WORKDIR, two COPYs and two RUNs.
    expect(inspect.RootFS.Layers).toHaveLength(6);
    const history = (await t.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'app:1'])).stdout;
    expect(history).toContain('/bin/sh -c #(nop)  ENV APP_HOME=/srv/app MODE=test\n');
    expect(history).toContain('|1 GREETING=hello /bin/sh -c echo "$GREETING from $MODE" > made.txt && chmod 755 app.sh\n');
    expect(history).toMatch(/\/bin\/sh -c #\(nop\) COPY file:[0-9a-f]{64} in \/srv\/app\/ \n/);
    // Intermediate images are not listed; the two tags are one image.
    const images = (await t.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter(Boolean).sort();
    expect(images).toEqual(['app:1', 'app:latest', 'busybox:latest']);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  });

  it('reuses every step of an unchanged rebuild and after a touch, and rebuilds from a changed COPY on', async () => {
    const again = await build(['-t', 'app:1', ctx]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.match(/ ---> Using cache\n/g)).toHaveLength(13);
    const id1 = JSON.parse((await t.docker(['image', 'inspect', 'app:1'])).stdout)[0].Id;
    utimesSync(join(ctx, 'app.sh'), new Date(), new Date(Date.now() + 5000));
    const touched = await build(['-t', 'app:1', ctx]);
    expect(touched.stdout.match(/ ---> Using cache\n/g)).toHaveLength(13);
    expect(JSON.parse((await t.docker(['image', 'inspect', 'app:1'])).stdout)[0].Id).toBe(id1);
    writeFileSync(join(ctx, 'conf/a.conf'), 'a=2\n');
    const changed = await build(['-t', 'app:1', ctx]);
    expect(changed.code, changed.stderr).toBe(0);
    // Steps 2-7 (up to COPY app.sh) cached, COPY conf/ and everything after it run.
    expect(changed.stdout.match(/ ---> Using cache\n/g)).toHaveLength(6);
    expect(changed.stdout).toMatch(/Step 8\/14 : COPY conf\/ \/etc\/app\/\n ---> [0-9a-f]{12}\n/);
    expect((await t.docker(['run', '--rm', '--entrypoint', 'cat', 'app:1', '/etc/app/a.conf'])).stdout).toBe('a=2\n');
    const fresh = await build(['--no-cache', '-t', 'app:1', ctx]);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).not.toContain('Using cache');
  });

  it('builds multi-stage with COPY --from and stops at --target; -q prints the ID, --iidfile writes it', async () => {
    const dir = context('multi', {
      Dockerfile: 'FROM busybox AS builder\nRUN mkdir /out && echo built > /out/artifact\nFROM busybox AS unused\nRUN echo unused > /u\nFROM scratch\nCOPY --from=builder /out/artifact /artifact\nCOPY --from=busybox /bin/busybox /bin/cat\nCMD ["/bin/cat", "/artifact"]\n',
    });
    const q = await build(['-q', '-t', 'multi:1', dir]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect((await t.docker(['run', '--rm', 'multi:1'])).stdout).toBe('built\n');
    const inspect = JSON.parse((await t.docker(['image', 'inspect', 'multi:1'])).stdout)[0];
    expect(inspect.Id).toBe(q.stdout.trim());
    expect(inspect.RootFS.Layers).toHaveLength(2);
    const iid = join(t.dir, 'iid');
    const target = await build(['--target', 'builder', '--iidfile', iid, '-t', 'multi:builder', dir]);
    expect(target.code, target.stderr).toBe(0);
    expect(target.stdout).toContain('Step 2/');
    expect(target.stdout).not.toContain('RUN echo unused');
    expect(readFileSync(iid, 'utf8')).toBe(JSON.parse((await t.docker(['image', 'inspect', 'multi:builder'])).stdout)[0].Id);
    expect((await t.docker(['run', '--rm', 'multi:builder', 'cat', '/out/artifact'])).stdout).toBe('built\n');
    const missing = await build(['--target', 'nope', dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('failed to reach build target nope in Dockerfile');
  });

  it('the escape directive, FROM --platform, SHELL, COPY --chown/--chmod, VOLUME; --rm=false keeps the step containers; --network host', async () => {
    const dir = context('more', {
      Dockerfile: [
        '# escape=`',
        'FROM --platform=linux/amd64 busybox',
        'SHELL ["/bin/sh", "-xc"]',
        "RUN echo 'C:\\dir' `",
        '    > /escaped',
        'COPY --chown=1000:1000 --chmod=640 f.txt /owned.txt',
        'VOLUME /data',
        'RUN wc -l < /proc/net/dev > /netdev',
        '',
      ].join('\n'),
      'f.txt': 'copied\n',
    });
    const r = await build(['--rm=false', '-t', 'more:1', dir]);
    expect(r.code, r.stderr).toBe(0);
    // escape=`: the backslash is a character, the backtick joins the lines.
    expect(r.stdout).toContain("Step 3/6 : RUN echo 'C:\\dir'     > /escaped\n");
    // SHELL: each later RUN goes through sh -x, which traces its command into the step's output.
    expect(r.stdout).toContain('\n+ wc -l\n');
    const run = await t.docker(['run', '--rm', 'more:1', 'sh', '-c', 'cat /escaped; stat -c "%u:%g %a" /owned.txt; cat /owned.txt; grep -c " /data " /proc/mounts; cat /netdev']);
    expect(run.stdout).toBe('C:\\dir\n1000:1000 640\ncopied\n1\n3\n');
    const cfg = JSON.parse((await t.docker(['image', 'inspect', '--format', '{{json .Config}}', 'more:1'])).stdout) as { Shell: string[]; Volumes: Record<string, unknown> };
    expect(cfg.Shell).toEqual(['/bin/sh', '-xc']);
    expect(cfg.Volumes).toEqual({ '/data': {} });
    // --rm=false: the two RUN steps' containers are kept (exited), as the classic builder keeps
    // them, the one after VOLUME with its anonymous /data (the run's went with --rm).
    const kept = (await t.docker(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    expect(kept).toHaveLength(2);
    expect((await t.docker(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect((await t.docker(['rm', '-v', ...kept])).code).toBe(0);
    expect((await t.docker(['volume', 'ls', '-q'])).stdout).toBe('');
    // --network host: the step sees the host's interfaces (lo and more), where the default none has lo alone.
    const host = await build(['--network', 'host', '--no-cache', '-t', 'more:host', dir]);
    expect(host.code, host.stderr).toBe(0);
    expect(Number((await t.docker(['run', '--rm', 'more:host', 'cat', '/netdev'])).stdout)).toBeGreaterThan(3);
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
    expect((await t.docker(['rmi', 'more:1', 'more:host'])).code).toBe(0);
    expect(activeSnapshots()).toEqual([]);
  });

  it('--pull fetches the base image again although it is here (a pull event); without it the local one is used', async () => {
    const dir = context('pull', { Dockerfile: 'FROM busybox\nRUN echo pulled > /p\n' });
    const pulls = async (since: number) => (await t.docker(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=pull', '--format', '{{.Actor.ID}}'])).stdout.trim();
    expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1100));
    let since = Math.floor(Date.now() / 1000);
    expect((await build(['--no-cache', '-t', 'pull:1', dir])).code).toBe(0);
    expect(await pulls(since)).toBe('');
    since = Math.floor(Date.now() / 1000) - 1;
    const r = await build(['--pull', '--no-cache', '-t', 'pull:1', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(await pulls(since)).toMatch(/busybox/);
    expect((await t.docker(['run', '--rm', 'pull:1', 'cat', '/p'])).stdout).toBe('pulled\n');
    expect((await t.docker(['rmi', 'pull:1'])).code).toBe(0);
  });

  it('a failing RUN reports its output and exit code and leaves no container, snapshot, image or temp dir', async () => {
    const imagesBefore = (await t.docker(['images', '-q'])).stdout;
    const dir = context('fail', { Dockerfile: 'FROM busybox\nRUN echo before-failing && exit 3\n' });
    const r = await build(['-t', 'broken:1', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('before-failing\n');
    expect(r.stderr).toContain("The command '/bin/sh -c echo before-failing && exit 3' returned a non-zero code: 3");
    expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
    expect((await t.docker(['images', '-q'])).stdout).toBe(imagesBefore);
    expect(activeSnapshots()).toEqual([]);
    expect(buildTemps()).toEqual([]);
    const syntax = await build([context('syntax', { Dockerfile: 'FROM busybox\nRUN true\nFLY away\n' })]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toContain('Error response from daemon: Dockerfile parse error line 3: unknown instruction: FLY');
    expect(buildTemps()).toEqual([]);
  });

  it('a build whose client goes away is cancelled: the running step is killed and removed', async () => {
    const dir = context('cancel', { Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    const cli = spawn('docker', ['build', dir], { env: { ...process.env, DOCKER_HOST: `unix://${t.socket}`, DOCKER_CONFIG: join(t.dir, 'docker-config') } });
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 100 && !out.includes('started\n'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain('started\n');
    expect((await t.docker(['ps', '-q'])).stdout).not.toBe('');
    cli.kill('SIGKILL');
    let left = 'x';
    for (let i = 0; i < 100 && left; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = (await t.docker(['ps', '-aq'])).stdout;
    }
    expect(left).toBe('');
    expect(activeSnapshots()).toEqual([]);
    expect(buildTemps()).toEqual([]);
  });

  it('what a build cut short by a crash left is removed when tsd starts', async () => {
    await t.kill9();
    mkdirSync(join(t.dataRoot, 'build', 'tmp', 'context-left-by-a-crash', 'sub'), { recursive: true });
    await t.restart();
    expect(buildTemps()).toEqual([]);
  });

  it('docker commit makes a container\'s changes an image that runs', async () => {
    const made = await t.docker(['run', '--name', 'tocommit', 'busybox', 'sh', '-c', 'echo committed > /data.txt && rm /etc/group']);
    expect(made.code, made.stderr).toBe(0);
    const c = await t.docker(['commit', '--change', 'CMD ["cat", "/data.txt"]', '--change', 'ENV C=1', '-m', 'a message', 'tocommit', 'committed:1']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect((await t.docker(['run', '--rm', 'committed:1'])).stdout).toBe('committed\n');
    expect((await t.docker(['run', '--rm', 'committed:1', 'sh', '-c', 'echo $C; ls /etc'])).stdout).not.toMatch(/^group$/m);
    const history = (await t.docker(['history', '--format', '{{.Comment}}', 'committed:1'])).stdout;
    expect(history.split('\n')[0]).toBe('a message');
    await t.docker(['rm', 'tocommit']);
    // A running container is paused for the commit and runs on after it.
    expect((await t.docker(['run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo alive > /live; exec sleep 30'])).code).toBe(0);
    for (let i = 0; i < 50 && (await t.docker(['diff', 'live'])).stdout.indexOf('/live') < 0; i++) await new Promise((r) => setTimeout(r, 100));
    const live = await t.docker(['commit', 'live', 'live:1']);
    expect(live.code, live.stderr).toBe(0);
    expect((await t.docker(['inspect', '--format', '{{.State.Status}}', 'live'])).stdout).toBe('running\n');
    expect((await t.docker(['run', '--rm', 'live:1', 'cat', '/live'])).stdout).toBe('alive\n');
    await t.docker(['rm', '-f', 'live']);
  });

  it('runs a base image\'s ONBUILD triggers; --build-arg, --label, ADD of a local tar, an unused build arg\'s warning', async () => {
    const parent = context('onbuild-parent', { Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /triggered\n' });
    expect((await build(['-t', 'parent:1', parent])).code).toBe(0);
    const files = join(t.dir, 'tarsrc');
    mkdirSync(join(files, 'inner'), { recursive: true });
    writeFileSync(join(files, 'inner/x.txt'), 'from the tar\n');
    const dir = context('onbuild-child', { Dockerfile: 'FROM parent:1\nARG WHO=nobody\nADD files.tar.gz /opt/\nRUN echo "$WHO" > /who\n' });
    execFileSync('tar', ['-czf', join(dir, 'files.tar.gz'), '-C', files, 'inner']);
    const r = await build(['--build-arg', 'WHO=alice', '--build-arg', 'UNUSED=1', '--label', 'built.by=test', '-t', 'child:1', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('# Executing 1 build trigger\n');
    // The last step's layer is a snapshot under its ChainID already (committed as it was stored, never unpacked).
    const layers: string[] = JSON.parse((await t.docker(['image', 'inspect', 'child:1'])).stdout)[0].RootFS.Layers;
    const top = layers.reduce((chain, d) => (chain ? `sha256:${createHash('sha256').update(`${chain} ${d}`).digest('hex')}` : d), '');
    expect(lstatSync(join(t.dataRoot, 'snapshots/overlay/names', createHash('sha256').update(top).digest('hex'))).isSymbolicLink()).toBe(true);
    expect(r.stdout).toContain('[Warning] One or more build-args [UNUSED] were not consumed\n');
    expect((await t.docker(['run', '--rm', 'child:1', 'cat', '/triggered', '/who', '/opt/inner/x.txt'])).stdout).toBe('triggered\nalice\nfrom the tar\n');
    const inspect = JSON.parse((await t.docker(['image', 'inspect', 'child:1'])).stdout)[0];
    expect(inspect.Config.Labels).toEqual({ 'built.by': 'test' });
    expect(JSON.parse((await t.docker(['image', 'inspect', 'parent:1'])).stdout)[0].Config.OnBuild).toEqual(['RUN echo triggered > /triggered']);
    expect(inspect.Config.OnBuild).toBeNull();
    // And in the config documents themselves.
    const configOf = async (ref: string) => JSON.parse(readFileSync(join(t.dataRoot, 'content/blobs/sha256', JSON.parse((await t.docker(['image', 'inspect', ref])).stdout)[0].Id.slice(7)), 'utf8'));
    expect((await configOf('parent:1')).config.OnBuild).toEqual(['RUN echo triggered > /triggered']);
    expect((await configOf('child:1')).config.OnBuild ?? null).toBeNull();
  });

  it('ADD of a URL: fetched by the daemon (redirects followed), mode 0600, named from the URL or the destination, never extracted; cached by its content; a 404 named', async () => {
    let body = 'remote content v1\n';
    const server = createServer((req, res) => {
      if (req.url === '/moved') return void res.writeHead(302, { Location: '/files/data.txt' }).end();
      if (req.url === '/files/data.txt') return void res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end(body);
      res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const dir = context('addurl', { Dockerfile: `FROM busybox\nADD ${base}/files/data.txt /opt/\nADD ${base}/moved /opt/renamed.txt\n` });
      const first = await build(['-t', 'addurl:1', dir]);
      expect(first.code, first.stderr).toBe(0);
      const run = async () => (await t.docker(['run', '--rm', 'addurl:1', 'sh', '-c', 'cat /opt/data.txt /opt/renamed.txt; stat -c "%a %Y" /opt/data.txt'])).stdout;
      expect(await run()).toBe('remote content v1\nremote content v1\n600 1445412480\n');
      expect((await build(['-t', 'addurl:1', dir])).stdout.match(/Using cache/g)?.length).toBe(2);
      body = 'remote content v2\n';
      const changed = await build(['-t', 'addurl:1', dir]);
      expect(changed.stdout).not.toContain('Using cache');
      expect(await run()).toContain('remote content v2\nremote content v2\n');
      const missing = await build([context('addurl404', { Dockerfile: `FROM busybox\nADD ${base}/nothing /opt/\n` })]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain(`failed to GET ${base}/nothing with status 404 Not Found`);
      expect(buildTemps()).toEqual([]);
      expect((await t.docker(['rmi', 'addurl:1'])).code).toBe(0);
    } finally {
      server.close();
    }
  });

  it('the CLI of Docker 20.10 builds too', async () => {
    if (!existsSync('/usr/bin/docker')) return;
    const dir = context('old', { Dockerfile: 'FROM busybox\nRUN echo old > /old\n' });
    const out = execFileSync('/usr/bin/docker', ['build', '-t', 'old:1', dir], { env: { ...process.env, DOCKER_HOST: `unix://${t.socket}` }, encoding: 'utf8' });
    expect(out).toContain('Successfully tagged old:1');
    expect((await t.docker(['run', '--rm', 'old:1', 'cat', '/old'])).stdout).toBe('old\n');
  });

  it('docker-compose (1.29, docker-py) builds a service with build args', async () => {
    if (!existsSync('/usr/bin/docker-compose')) return;
    const dir = context('compose', {
      'docker-compose.yml': 'version: "3"\nservices:\n  web:\n    build:\n      context: .\n      args:\n        WHO: compose\n',
      Dockerfile: 'FROM busybox\nARG WHO\nRUN echo "$WHO" > /who\nCMD ["cat", "/who"]\n',
    });
    const out = execFileSync('docker-compose', ['-p', 'proj', 'build'], { cwd: dir, env: { ...process.env, DOCKER_HOST: `unix://${t.socket}` }, encoding: 'utf8' });
    expect(out).toContain('Successfully tagged proj_web:latest');
    expect((await t.docker(['run', '--rm', 'proj_web'])).stdout).toBe('compose\n');
  });
});
