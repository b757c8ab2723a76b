// docker-compose 1.29 (Debian's, through docker-py) against a private tsd in a
// network namespace of its own (as the network tests), images from
// busybox-static: a web service (busybox httpd, a published port on
// 127.0.0.1, a healthcheck) and a db service with a named volume. After each
// test the project leaves no container, network, volume or network leftover.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestNetns } from './netns.js';
import { closeAndCheck, type Tsd } from './tsd.js';

const ns = new TestNetns();
let t: Tsd;
let dir: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  // --dns 127.0.0.1: names the networks do not own are forwarded only to the namespace's loopback.
  t = await ns.startTsd(['--dns', '127.0.0.1'], 'busybox');
  dir = mkdtempSync(join(tmpdir(), 'tsd-compose-'));
}, 60_000);

afterAll(async () => {
  try {
    rmSync(dir, { recursive: true, force: true });
    if (t) expect(await closeAndCheck(t)).toEqual([]);
  } finally {
    ns.destroy(t);
  }
});

/** docker-compose in the project directory against this tsd; stdout and stderr together (compose writes its progress to stderr). */
function compose(args: string[], opts: { timeoutMs?: number; signalAfterMs?: number; env?: Record<string, string> } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn('docker-compose', ['-p', 'app', ...args], { cwd: dir, env: { ...process.env, DOCKER_HOST: `unix://${t.socket}`, DOCKER_CONFIG: join(t.dir, 'docker-config'), ...opts.env } });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    if (opts.signalAfterMs !== undefined) setTimeout(() => p.kill('SIGINT'), opts.signalAfterMs);
    p.on('close', (code) => {
      clearTimeout(kill);
      res({ code, out });
    });
  });
}

const project = (db = 'exec sleep 1000') => `version: "2.4"
services:
  web:
    image: busybox
    command: sh -c 'echo hello from web > /tmp/index.html && exec httpd -f -p 80 -h /tmp'
    ports: ["127.0.0.1:18280:80"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/index.html"]
      interval: 500ms
      timeout: 2s
      retries: 3
    stop_grace_period: 1s
  db:
    image: busybox
    command: sh -c 'echo db up; ${db}'
    volumes: [data:/data]
    hostname: dbhost
    extra_hosts: ["other:10.9.9.9"]
    depends_on: [web]
    stop_signal: SIGKILL
volumes:
  data:
`;

afterEach(async () => {
  await compose(['down', '-v', '--remove-orphans']);
  expect((await t.docker(['ps', '-aq'])).stdout).toBe('');
  expect((await t.docker(['network', 'ls', '-q', '--filter', 'type=custom'])).stdout).toBe('');
  expect((await t.docker(['volume', 'ls', '-q'])).stdout).toBe('');
  expect(ns.leftovers(t)).toEqual([]);
});

const curl = () => ns.run('sh', ['-c', 'curl -s --max-time 3 http://127.0.0.1:18280/index.html || true']);

describe('docker-compose on tsd', () => {
  it('up -d, ps, exec -T by service name, up-to-date, recreate of one service only with its volume kept, logs, run --rm, --scale resolving both, a healthcheck turning healthy, down -v', async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), project());
    const up = await compose(['up', '-d']);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain('Creating network "app_default" with the default driver');
    expect(up.out).toContain('Creating volume "app_data" with default driver');
    const ps = await compose(['ps']);
    expect(ps.out).toMatch(/app_db_1 .* Up/);
    expect(ps.out).toMatch(/app_web_1 .* Up .*127\.0\.0\.1:18280->80\/tcp/);
    let page = '';
    for (let i = 0; i < 20 && !page.includes('hello'); i++) { page = curl(); if (!page) await sleep(200); }
    expect(page).toBe('hello from web\n');
    const byName = await compose(['exec', '-T', 'db', 'wget', '-qO-', 'http://web/index.html']);
    expect(byName.out).toBe('hello from web\n');
    expect((await compose(['exec', '-T', 'db', 'sh', '-c', 'echo kept > /data/f'])).code).toBe(0);
    // extra_hosts in its /etc/hosts; its hostname resolves for the other service.
    expect((await compose(['exec', '-T', 'db', 'cat', '/etc/hosts'])).out).toMatch(/10\.9\.9\.9\tother\n(.*\n)?[\d.]+\tdbhost\n$/);
    expect((await compose(['exec', '-T', 'web', 'nslookup', 'dbhost'])).out).toContain((await t.docker(['inspect', 'app_db_1', '--format', '{{.NetworkSettings.Networks.app_default.IPAddress}}'])).stdout.trim());
    // The healthcheck: starting, then healthy.
    let h = '';
    for (let i = 0; i < 50 && h !== 'healthy'; i++) { h = (await t.docker(['inspect', 'app_web_1', '--format', '{{.State.Health.Status}}'])).stdout.trim(); if (h !== 'healthy') await sleep(200); }
    expect(h).toBe('healthy');
    expect((await compose(['ps'])).out).toMatch(/app_web_1 .* Up \(healthy\)/);
    const again = await compose(['up', '-d']);
    expect(again.out).toContain('app_web_1 is up-to-date');
    expect(again.out).toContain('app_db_1 is up-to-date');
    // Changing db recreates db only; its volume keeps the data.
    const webId = (await t.docker(['inspect', 'app_web_1', '--format', '{{.Id}}'])).stdout.trim();
    writeFileSync(join(dir, 'docker-compose.yml'), project('exec sleep 1001'));
    const re = await compose(['up', '-d']);
    expect(re.code, re.out).toBe(0);
    expect(re.out).toContain('Recreating app_db_1');
    expect(re.out).toContain('app_web_1 is up-to-date');
    expect((await t.docker(['inspect', 'app_web_1', '--format', '{{.Id}}'])).stdout.trim()).toBe(webId);
    expect((await compose(['exec', '-T', 'db', 'cat', '/data/f'])).out).toBe('kept\n');
    const logs = await compose(['logs', '--no-color', 'db']);
    expect(logs.out).toMatch(/db_1 +\| db up/);
    const follow = await compose(['logs', '--no-color', '-f', '--tail', '1'], { signalAfterMs: 2500 });
    expect(follow.out).toMatch(/db_1 +\| db up/);
    expect(follow.out).toContain('app_web_1');
    const oneOff = await compose(['run', '--rm', 'db', 'echo', 'one-off']);
    expect(oneOff.out).toContain('one-off');
    expect((await t.docker(['ps', '-aq', '--filter', 'label=com.docker.compose.oneoff=True'])).stdout).toBe('');
    const scaled = await compose(['up', '-d', '--scale', 'db=2']);
    expect(scaled.code, scaled.out).toBe(0);
    const ips = await Promise.all(['app_db_1', 'app_db_2'].map(async (c) => (await t.docker(['inspect', c, '--format', '{{.NetworkSettings.Networks.app_default.IPAddress}}'])).stdout.trim()));
    const lookup = (await compose(['exec', '-T', 'web', 'nslookup', 'db'])).out;
    for (const ip of ips) expect(lookup).toContain(ip);
    ns.seen.push(...ips, webId);
    const down = await compose(['down', '-v']);
    expect(down.code, down.out).toBe(0);
    expect(down.out).toContain('Removing network app_default');
    expect(down.out).toContain('Removing volume app_data');
  });

  it('build of a service from its Dockerfile, through the docker CLI (compose\'s default) and through docker-py (COMPOSE_DOCKER_CLI_BUILD=0); a rebuild uses the cache', async () => {
    mkdirSync(join(dir, 'svc'), { recursive: true });
    writeFileSync(join(dir, 'svc', 'Dockerfile'), 'FROM busybox\nARG WHO=nobody\nCOPY msg /msg\nRUN echo "built for $WHO" >> /msg\nCMD ["cat", "/msg"]\n');
    writeFileSync(join(dir, 'svc', 'msg'), 'hello from a build\n');
    writeFileSync(join(dir, 'docker-compose.yml'), `version: "2.4"
services:
  app:
    build: {context: ./svc, args: {WHO: compose}}
    image: app_built:1
`);
    for (const env of [{}, { COMPOSE_DOCKER_CLI_BUILD: '0' }]) {
      const b = await compose(['build'], { env });
      expect(b.code, b.out).toBe(0);
      const r = await compose(['run', '--rm', 'app']);
      expect(r.out).toContain('hello from a build\nbuilt for compose\n');
      const again = await compose(['build'], { env });
      expect(again.out).toContain('Using cache');
      expect((await t.docker(['rmi', 'app_built:1'])).code).toBe(0);
    }
  });

  it('a service\'s options reach its container: environment, env_file, working_dir, user, entrypoint and command, tmpfs, expose, bind and anonymous volumes, aliases, labels, ulimits, mem_limit, cpus, init, restart, stop_signal, depends_on', async () => {
    mkdirSync(join(dir, 'bind'), { recursive: true });
    writeFileSync(join(dir, 'bind', 'note'), 'from the host\n');
    writeFileSync(join(dir, 'opts.env'), '# a comment\nFROM_FILE=two\n');
    writeFileSync(join(dir, 'docker-compose.yml'), `version: "2.4"
services:
  opts:
    image: busybox
    entrypoint: ["sh", "-c"]
    command: ["trap 'echo got USR1; exit 3' USR1; echo started; while true; do sleep 0.1; done"]
    environment: {FROM_ENV: one}
    env_file: [opts.env]
    working_dir: /work
    user: "1000:1000"
    tmpfs: [/scratch]
    expose: ["7000"]
    volumes: ["./bind:/bind:ro", "/anon"]
    networks:
      default:
        aliases: [opts-alias]
    labels: {tier: test}
    ulimits: {nofile: {soft: 1000, hard: 1000}}
    mem_limit: 64m
    cpus: 0.5
    init: true
    restart: on-failure
    stop_signal: SIGUSR1
  peer:
    image: busybox
    command: sleep 1000
    depends_on: [opts]
`);
    const up = await compose(['up', '-d']);
    expect(up.code, up.out).toBe(0);
    expect(up.out.indexOf('Creating app_opts_1')).toBeGreaterThanOrEqual(0);
    expect(up.out.indexOf('Creating app_opts_1')).toBeLessThan(up.out.indexOf('Creating app_peer_1'));
    const sh = async (cmd: string) => (await compose(['exec', '-T', 'opts', 'sh', '-c', cmd])).out;
    expect(await sh('echo $FROM_ENV $FROM_FILE; pwd; id -u; id -g; ulimit -n; ulimit -Hn')).toBe('one two\n/work\n1000\n1000\n1000\n1000\n');
    expect(await sh('grep " /scratch " /proc/mounts | cut -d" " -f3')).toBe('tmpfs\n');
    expect(await sh('cat /bind/note; (echo x > /bind/new) 2>/dev/null || echo read-only')).toBe('from the host\nread-only\n');
    expect(await sh('tr "\\0" " " < /proc/1/cmdline')).toMatch(/^\/sbin\/docker-init -- sh -c trap/);
    const f = (await t.docker(['inspect', 'app_opts_1', '--format',
      '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.ExposedPorts}} {{index .Config.Labels "tier"}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.Init}} {{.HostConfig.RestartPolicy.Name}} {{.Config.StopSignal}}'])).stdout.trim();
    expect(f).toBe('["sh","-c"] ["trap \'echo got USR1; exit 3\' USR1; echo started; while true; do sleep 0.1; done"] {"7000/tcp":{}} test 67108864 500000000 true on-failure SIGUSR1');
    const mounts = JSON.parse((await t.docker(['inspect', 'app_opts_1', '--format', '{{json .Mounts}}'])).stdout) as Array<{ Type: string; Destination: string; RW: boolean }>;
    expect(mounts.map((m) => `${m.Type} ${m.Destination} ${m.RW}`).sort()).toEqual(['bind /bind false', 'volume /anon true']);
    const optsIp = (await t.docker(['inspect', 'app_opts_1', '--format', '{{.NetworkSettings.Networks.app_default.IPAddress}}'])).stdout.trim();
    ns.seen.push(optsIp);
    expect((await compose(['exec', '-T', 'peer', 'nslookup', 'opts-alias'])).out).toContain(optsIp);
    // stop sends the stop_signal (through the init): the trap's exit code, and no restart after a stop.
    expect((await compose(['stop', 'opts'])).code).toBe(0);
    expect((await t.docker(['inspect', 'app_opts_1', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}'])).stdout.trim()).toBe('exited 3 0');
    expect((await compose(['logs', '--no-color', 'opts'])).out).toContain('got USR1');
  });

  it('an attached up interrupted with SIGINT stops every container of the project', async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), project());
    const up = await compose(['up', '--no-color'], { signalAfterMs: 6000, timeoutMs: 60_000 });
    expect(up.out, up.out).toMatch(/db_1 +\| db up/);
    expect(up.out).toContain('Stopping app_db_1');
    const states = (await t.docker(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout.trim().split('\n').sort();
    expect(states).toEqual(['app_db_1 exited', 'app_web_1 exited']);
  });
});
