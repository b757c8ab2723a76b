// The real docker CLI against a private tsd: stats (--no-stream, the API's
// stream and one-shot), diff, system df (-v) and ps -s, resize of a container's
// and an exec's pty with Docker's errors — and nothing left behind afterwards.
// TSD_TEST_RUNTIME=/usr/sbin/runc runs it over runc.
import { request } from 'node:http';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, push, writeLayout } from '../images/buildImage.js';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
const RUNTIME = process.env.TSD_TEST_RUNTIME;
const IMAGE = 'busybox';
const ZERO = '0001-01-01T00:00:00Z';

beforeAll(async () => {
  t = await startTsd(RUNTIME ? ['--runtime', RUNTIME] : []);
  expect((await t.docker(['pull', IMAGE])).code).toBe(0);
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
});

interface Answer { status: number; body: string }

/** One request to tsd's socket; `onData` sees a streamed body as it comes. */
function api(method: string, path: string, body?: unknown, onData?: (chunk: string) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: t.socket, method, path: `/v1.41${path}`, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        onData?.(d);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function run(args: string[]): Promise<string> {
  const r = await t.docker(['run', '-d', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function until(what: string, f: () => Promise<boolean>, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (await f()) return;
  throw new Error(`timed out waiting for ${what}`);
}

describe(`stats, diff, system df, resize${RUNTIME ? ` over --runtime ${RUNTIME}` : ''}`, () => {
  it('docker stats --no-stream: CPU %, MEM USAGE / LIMIT (the host\'s memory), PIDS; a stopped container is all zero', async () => {
    await run(['--name', 'busy', IMAGE, 'sh', '-c', 'while :; do :; done']);
    await run(['--name', 'idle', IMAGE, 'sh', '-c', 'sleep 1000 & sleep 1000 & wait']);
    const r = await t.docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'busy', 'idle']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = Object.fromEntries(r.stdout.trim().split('\n').map((l) => {
      const [name, cpu, mem, pids] = l.split('|');
      return [name, { cpu: parseFloat(cpu), mem, pids: Number(pids) }];
    }));
    // A busy loop uses about one CPU (less on a loaded machine); sleeps use none.
    expect(rows.busy.cpu).toBeGreaterThan(20);
    expect(rows.idle.cpu).toBeLessThan(5);
    expect(rows.busy.pids).toBe(1);
    expect(rows.idle.pids).toBe(3);
    // docker formats the limit with units.BytesSize: the host's total memory.
    const [usage, limit] = rows.idle.mem.split(' / ');
    expect(usage).toMatch(/^[\d.]+(B|KiB|MiB)$/);
    expect(limit).toMatch(/GiB$/);
    expect(Math.abs(parseFloat(limit) - totalmem() / 2 ** 30)).toBeLessThan(0.01);
    // Without names: every running container.
    const all = await t.docker(['stats', '--no-stream', '--format', '{{.Name}}']);
    expect(all.stdout.trim().split('\n').sort()).toEqual(['busy', 'idle']);
    // The CLI's live view (a stream per container), redrawn as samples come; a paused container has numbers too.
    expect((await t.docker(['pause', 'busy'])).code).toBe(0);
    const live = await t.underPty('timeout -s KILL 4 docker stats --format "{{.Name}} {{.PIDs}}" busy idle');
    expect(live.stdout.split('idle 3').length - 1).toBeGreaterThanOrEqual(2);
    expect(live.stdout).toContain('busy 1');
    await t.docker(['rm', '-f', 'busy']);
    // A container that is not running: one zeroed answer, at once.
    await t.docker(['create', '--name', 'stopped', IMAGE, 'true']);
    const z = await t.docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'stopped']);
    expect(z.stdout.trim()).toBe('stopped|0.00%|0B / 0B|0');
    expect((await t.docker(['stats', '--no-stream', 'nosuch'])).stderr).toMatch(/No such container: nosuch/);
    await t.docker(['rm', '-f', 'stopped']);
  }, 60_000);

  it('the stats document: dockerd\'s fields, precpu from a sample a second earlier; one-shot has none; stream with one-shot is refused', async () => {
    const id = (await t.docker(['inspect', '--format', '{{.Id}}', 'idle'])).stdout.trim();
    const one = await api('GET', '/containers/idle/stats?stream=false');
    expect(one.status).toBe(200);
    const s = JSON.parse(one.body);
    expect(s.name).toBe('/idle');
    expect(s.id).toBe(id);
    expect(s.num_procs).toBe(0);
    expect(s).not.toHaveProperty('networks');
    expect(s.read).not.toBe(ZERO);
    expect(s.preread).not.toBe(ZERO);
    const gap = Date.parse(s.read) - Date.parse(s.preread);
    expect(gap).toBeGreaterThan(900);
    expect(gap).toBeLessThan(3000);
    expect(s.cpu_stats.online_cpus).toBe(availableParallelism());
    expect(s.cpu_stats.system_cpu_usage).toBeGreaterThan(s.precpu_stats.system_cpu_usage);
    expect(s.cpu_stats.cpu_usage.total_usage).toBeGreaterThanOrEqual(s.precpu_stats.cpu_usage.total_usage);
    expect(s.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(s.cpu_stats.throttling_data).toEqual({ periods: expect.any(Number), throttled_periods: expect.any(Number), throttled_time: expect.any(Number) });
    expect(s.memory_stats.usage).toBeGreaterThan(0);
    expect(s.memory_stats.limit).toBe(totalmem());
    // cgroup v1 (this host): dockerd's v1 names; v2: its v2 names.
    const v2 = (await import('node:fs')).existsSync('/sys/fs/cgroup/cgroup.controllers');
    expect(Object.keys(s.memory_stats.stats)).toContain(v2 ? 'inactive_file' : 'total_inactive_file');
    if (!v2) expect(s.memory_stats.max_usage).toBeGreaterThanOrEqual(s.memory_stats.usage);
    expect(s.pids_stats.current).toBe(3);
    expect(Array.isArray(s.blkio_stats.io_service_bytes_recursive)).toBe(true);
    const shot = JSON.parse((await api('GET', '/containers/idle/stats?stream=false&one-shot=true')).body);
    expect(shot.preread).toBe(ZERO);
    expect(shot.precpu_stats.cpu_usage.total_usage).toBe(0);
    expect(shot.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(0);
    expect(await api('GET', '/containers/idle/stats?stream=true&one-shot=true')).toEqual({ status: 400, body: JSON.stringify({ message: 'cannot have stream=true and one-shot=true' }) });
    expect((await api('GET', '/containers/nosuch/stats')).status).toBe(404);
  }, 30_000);

  it('the stats stream: a document a second while it runs, then a zeroed one, and the stream ends when the container stops', async () => {
    await run(['--name', 'brief', IMAGE, 'sleep', '4']);
    const began = Date.now();
    const r = await api('GET', '/containers/brief/stats');
    expect(r.status).toBe(200);
    const docs = r.body.trim().split('\n').map((l) => JSON.parse(l));
    const samples = docs.filter((d) => d.read !== ZERO);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples.length).toBeLessThanOrEqual(6);
    // Each sample's precpu is the one before it.
    expect(samples[1].preread).toBe(samples[0].read);
    expect(samples[1].precpu_stats).toEqual(samples[0].cpu_stats);
    expect(docs[docs.length - 1]).toMatchObject({ read: ZERO, name: '/brief', pids_stats: {} });
    expect(Date.now() - began).toBeLessThan(8000);
    // A client that goes away ends its stream (nothing is left writing).
    await run(['--name', 'watched', IMAGE, 'sleep', '1000']);
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: t.socket, path: '/v1.41/containers/watched/stats' }, (res) => {
        res.on('data', () => {
          if (++got === 2) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (got >= 2 ? resolve() : reject(e)));
      req.end();
    });
    await t.docker(['rm', '-f', 'brief', 'watched']);
  }, 30_000);

  it('docker diff: A added, C changed, D deleted, as Docker lists them', async () => {
    await run(['--name', 'differ', IMAGE, 'sh', '-c', 'touch /new; echo x >> /etc/passwd; touch /etc/added; rm /bin/ls; mkdir -p /tmp/a/b; rm -r /home/user; touch /ready; sleep 1000']);
    await until('the changes', async () => (await t.docker(['exec', 'differ', 'cat', '/ready'])).code === 0);
    const d = await t.docker(['diff', 'differ']);
    expect(d.stderr).toBe('');
    expect(d.stdout.split('\n').filter(Boolean)).toEqual([
      'C /bin', 'D /bin/ls', 'C /etc', 'A /etc/added', 'C /etc/passwd', 'C /home', 'D /home/user', 'A /new', 'A /ready', 'C /tmp', 'A /tmp/a', 'A /tmp/a/b',
    ]);
    const api1 = JSON.parse((await api('GET', '/containers/differ/changes')).body);
    expect(api1).toContainEqual({ Path: '/new', Kind: 1 });
    expect(api1).toContainEqual({ Path: '/etc', Kind: 0 });
    expect(api1).toContainEqual({ Path: '/bin/ls', Kind: 2 });
    // A container that changed nothing.
    await t.docker(['create', '--name', 'untouched', IMAGE, 'true']);
    expect(await t.docker(['diff', 'untouched'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await t.docker(['diff', 'nosuch'])).stderr).toMatch(/No such container: nosuch/);
    await t.docker(['rm', '-f', 'differ', 'untouched']);
  }, 30_000);

  it('docker system df (-v) and ps -s: layers, images with their containers, each container\'s writable layer', async () => {
    await run(['--name', 'writer', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/big bs=1024 count=1024 2>/dev/null; touch /ready; sleep 1000']);
    await until('the file', async () => (await t.docker(['exec', 'writer', 'ls', '/ready'])).code === 0);
    const raw = JSON.parse((await api('GET', '/system/df')).body);
    expect(raw.LayersSize).toBeGreaterThan(500_000);
    expect(raw.Volumes).toEqual([]);
    expect(raw.BuildCache).toEqual([]);
    expect(raw.Images).toHaveLength(1);
    expect(raw.Images[0]).toMatchObject({ RepoTags: ['busybox:latest'], Size: raw.LayersSize, SharedSize: 0, Containers: 2 });
    const writer = raw.Containers.find((c: { Names: string[] }) => c.Names[0] === '/writer');
    expect(writer.SizeRw).toBeGreaterThanOrEqual(1024 * 1024);
    expect(writer.SizeRw).toBeLessThan(1024 * 1024 + 10_000);
    expect(writer.SizeRootFs).toBe(writer.SizeRw + raw.LayersSize);
    const df = await t.docker(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}']);
    expect(df.stderr).toBe('');
    expect(df.stdout.trim().split('\n')).toEqual(['Images|1|1', 'Containers|2|2', 'Local Volumes|0|0', 'Build Cache|0|0']);
    const v = await t.docker(['system', 'df', '-v']);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(/Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest .* 2\n/);
    expect(v.stdout).toMatch(/Containers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n/);
    expect(v.stdout).toMatch(/busybox +"sh -c 'dd if=\/dev\/z…" +0 +1\.05MB .* Up .* writer\n/);
    const ps = await t.docker(['ps', '-s', '--filter', 'name=writer', '--format', '{{.Size}}']);
    expect(ps.stdout.trim()).toMatch(/^1\.05MB \(virtual [\d.]+MB\)$/);
    await t.docker(['rm', '-f', 'writer']);
    // Two names of one image are one image that shares nothing; a second image on the same
    // first layer shares that layer (stored once: LayersSize counts it once).
    const busyboxBytes = raw.LayersSize;
    expect((await t.docker(['tag', IMAGE, 'busybox:two'])).code).toBe(0);
    const tagged = JSON.parse((await api('GET', '/system/df')).body);
    expect(tagged.Images).toHaveLength(1);
    expect(tagged.Images[0]).toMatchObject({ Size: busyboxBytes, SharedSize: 0 });
    expect(tagged.Images[0].RepoTags.sort()).toEqual(['busybox:latest', 'busybox:two']);
    const layout = join(t.dir, 'twolayer');
    writeLayout(layout, { layers: [buildLayer(busyboxFiles()), buildLayer({ 'extra/file': 'x'.repeat(10_000) })] });
    push(layout, `${t.registry.host}/library/twolayer:latest`);
    expect((await t.docker(['pull', 'twolayer'])).code).toBe(0);
    const two = JSON.parse((await api('GET', '/system/df')).body);
    const byTag = (tag: string) => two.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes(tag));
    expect(two.LayersSize).toBe(busyboxBytes + 10_000);
    expect(byTag('busybox:latest')).toMatchObject({ Size: busyboxBytes, SharedSize: busyboxBytes, Containers: 1 });
    expect(byTag('twolayer:latest')).toMatchObject({ Size: busyboxBytes + 10_000, SharedSize: busyboxBytes, Containers: 0 });
    const df2 = await t.docker(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}']);
    expect(df2.stdout.trim().split('\n')[0]).toBe('Images|2|1');
    expect((await t.docker(['rmi', 'twolayer'])).code).toBe(0);
    // (-f: tsd refuses to untag a second name of an image a container uses; dockerd would not.)
    expect((await t.docker(['rmi', '-f', 'busybox:two'])).code).toBe(0);
    expect(JSON.parse((await api('GET', '/system/df')).body).LayersSize).toBe(busyboxBytes);
  }, 30_000);

  it('resize: a -t container\'s and an exec\'s pty take the size (API and CLI); Docker\'s answers for no pty, a stopped container, bad sizes, unknown ids', async () => {
    const id = await run(['-t', '--name', 'term', IMAGE, 'sh', '-c', 'sleep 1000']);
    expect((await api('POST', '/containers/term/resize?h=31&w=97')).status).toBe(200);
    expect((await t.docker(['exec', 'term', 'stty', '-F', '/dev/console', 'size'])).stdout.trim()).toBe('31 97');
    // The CLI sends its terminal's size (under script, set by stty) for run -it and exec -it.
    // (The CLI resizes once the process started: it waits a moment before it asks.)
    const runIt = await t.underPty(`stty rows 23 cols 81; docker run --rm -it ${IMAGE} sh -c "sleep 1; stty size"`);
    // (The pty echoes a NUL the CLI writes as ^@.)
    expect(runIt.stdout.replace(/\r|\^@/g, '').trim()).toBe('23 81');
    const execIt = await t.underPty('stty rows 19 cols 77; docker exec -it term sh -c "sleep 1; stty size"');
    expect(execIt.stdout.replace(/\r|\^@/g, '').trim()).toBe('19 77');
    // An exec's own pty, through the API: created, started detached, resized, then it reports.
    const ex = JSON.parse((await api('POST', '/containers/term/exec', { Cmd: ['sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; stty size > /tmp/size; sleep 1000'], Tty: true })).body);
    expect((await api('POST', `/exec/${ex.Id}/start`, { Detach: true, Tty: true })).status).toBe(200);
    await until('the exec runs', async () => JSON.parse((await api('GET', `/exec/${ex.Id}/json`)).body).Running === true);
    expect((await api('POST', `/exec/${ex.Id}/resize?h=12&w=34`)).status).toBe(200);
    await t.docker(['exec', 'term', 'touch', '/tmp/go']);
    await until('the size', async () => (await t.docker(['exec', 'term', 'cat', '/tmp/size'])).stdout.trim() === '12 34');
    // Docker's errors.
    const msg = (a: Answer) => ({ status: a.status, message: JSON.parse(a.body).message });
    expect(msg(await api('POST', '/containers/term/resize?h=abc&w=1'))).toEqual({ status: 400, message: 'strconv.Atoi: parsing "abc": invalid syntax' });
    expect(msg(await api('POST', '/containers/term/resize?w=1'))).toEqual({ status: 400, message: 'strconv.Atoi: parsing "": invalid syntax' });
    expect(msg(await api('POST', `/exec/${ex.Id}/resize?h=1&w=x`))).toEqual({ status: 400, message: 'strconv.Atoi: parsing "x": invalid syntax' });
    expect(msg(await api('POST', '/containers/nosuch/resize?h=1&w=1'))).toEqual({ status: 404, message: 'No such container: nosuch' });
    expect(msg(await api('POST', '/exec/nosuch/resize?h=1&w=1'))).toEqual({ status: 404, message: 'No such exec instance: nosuch' });
    // No pty: nothing to resize, and dockerd (containerd) answers 200 for it.
    await run(['--name', 'plain', IMAGE, 'sleep', '1000']);
    expect((await api('POST', '/containers/plain/resize?h=10&w=10')).status).toBe(200);
    const plainExec = JSON.parse((await api('POST', '/containers/plain/exec', { Cmd: ['sleep', '1000'] })).body);
    await api('POST', `/exec/${plainExec.Id}/start`, { Detach: true });
    await until('the exec runs', async () => JSON.parse((await api('GET', `/exec/${plainExec.Id}/json`)).body).Running === true);
    expect((await api('POST', `/exec/${plainExec.Id}/resize?h=10&w=10`)).status).toBe(200);
    // A container that does not run: 409 with Docker's message, for it and its execs.
    await t.docker(['stop', '-t', '0', 'term']);
    expect(msg(await api('POST', '/containers/term/resize?h=10&w=10'))).toEqual({ status: 409, message: `Container ${id} is not running` });
    expect(msg(await api('POST', `/exec/${ex.Id}/resize?h=10&w=10`))).toEqual({ status: 409, message: `Container ${id} is not running` });
    await t.docker(['rm', '-f', 'term', 'plain', 'idle']);
  }, 60_000);
});
