// Volumes through the real docker CLI: named volumes that outlive their
// containers (and a kill -9 of tsd), copy-up of image content with its owners,
// nocopy, anonymous volumes (-v /path, the image's VOLUME) removed by rm -v,
// read-only mounts, --volumes-from, tmpfs limits, prune, the refusals, and
// nothing left behind (mounts, volume directories).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, push, writeLayout, type BuiltLayer } from '../images/buildImage.js';
import { closeAndCheck, leftovers, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
let host: string;

/** A layer with /data/owned (1000:1000, mode 0640) and /data/link, owners kept in the tar. */
function ownedLayer(): BuiltLayer {
  const work = mkdtempSync(join(tmpdir(), 'vol-layer-'));
  try {
    const root = join(work, 'root');
    mkdirSync(join(root, 'data'), { recursive: true, mode: 0o750 });
    writeFileSync(join(root, 'data/owned'), 'from the image\n', { mode: 0o640 });
    chownSync(join(root, 'data/owned'), 1000, 1000);
    chownSync(join(root, 'data'), 1000, 1000);
    execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "user.origin", b"image")', join(root, 'data/owned')]);
    execFileSync('ln', ['-s', 'owned', join(root, 'data/link')]);
    mkdirSync(join(root, 'seed'));
    writeFileSync(join(root, 'seed/file'), 'seed\n');
    const tarFile = join(work, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=user.*', '--mtime=@0', '--sort=name', '-C', root, '-cf', tarFile, '.']);
    const tar = readFileSync(tarFile);
    return { tar, blob: execFileSync('gzip', ['-n', '-c', tarFile]), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const volumeDirs = () => (existsSync(join(t.dataRoot, 'volumes')) ? readdirSync(join(t.dataRoot, 'volumes')) : []);

async function ok(args: string[]): Promise<string> {
  const r = await t.docker(args);
  expect(r.stderr, `docker ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  // TSD_TEST_RUNTIME (volumes.runc.test.ts): the same over another runc-compatible runtime.
  t = await startTsd(process.env.TSD_TEST_RUNTIME ? ['--runtime', process.env.TSD_TEST_RUNTIME] : []);
  const layout = join(t.dir, 'vol-layout');
  writeLayout(layout, { layers: [buildLayer(busyboxFiles()), ownedLayer()], config: { Volumes: { '/seed': {} } } });
  push(layout, `${t.registry.host}/library/volimg:latest`);
  expect((await t.docker(['pull', 'busybox'])).code).toBe(0);
  expect((await t.docker(['pull', 'volimg'])).code).toBe(0);
  host = mkdtempSync(join(t.dir, 'host-'));
}, 60_000);

afterEach(async () => {
  // Every test removes its containers; what it left in mounts and records shows here.
  expect(leftovers(t).filter((l) => !l.startsWith('record'))).toEqual([]);
});

afterAll(async () => {
  expect(await closeAndCheck(t)).toEqual([]);
}, 30_000);

describe('docker volume and -v/--mount', () => {
  it('a named volume: created on first use, written in one container, read in the next, kept after kill -9 of tsd', async () => {
    await ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'sh', '-c', 'echo hello > /data/f']);
    expect(await ok(['run', '--rm', '-v', 'data1:/data:ro', 'busybox', 'cat', '/data/f'])).toBe('hello');
    const v = JSON.parse(await ok(['volume', 'inspect', 'data1']))[0];
    expect(v).toMatchObject({ Name: 'data1', Driver: 'local', Scope: 'local', Mountpoint: join(t.dataRoot, 'volumes/data1/_data'), Labels: {}, Options: {} });
    await t.stop();
    await t.restart();
    expect(await ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'cat', '/data/f'])).toBe('hello');
    await t.kill9();
    await t.restart();
    expect(await ok(['run', '--rm', '-v', 'data1:/data', 'busybox', 'cat', '/data/f'])).toBe('hello');
    expect(await ok(['volume', 'ls', '-q'])).toBe('data1');
    // Idempotent create; labels and filters.
    await ok(['volume', 'create', 'data1']);
    await ok(['volume', 'create', '--label', 'team=a', 'data2']);
    expect(await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).toBe('data2');
    expect(await ok(['volume', 'ls', '-q', '--filter', 'name=ta1'])).toBe('data1');
    await ok(['volume', 'rm', 'data1', 'data2']);
    expect(volumeDirs()).toEqual([]);
  }, 60_000);

  it('copy-up of the image content with owners, modes and symlinks; nocopy leaves the volume empty', async () => {
    const out = await ok(['run', '--rm', '-v', 'cu:/data', 'volimg', 'sh', '-c', 'stat -c "%u:%g %a %n" /data /data/owned; readlink /data/link; cat /data/owned']);
    expect(out.split('\n')).toEqual(['1000:1000 750 /data', '1000:1000 640 /data/owned', 'owned', 'from the image']);
    const xattr = execFileSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "user.origin").decode())', join(t.dataRoot, 'volumes/cu/_data/owned')]).toString().trim();
    expect(xattr).toBe('image');
    // Not empty any more: a second container sees what the first left, not the image.
    await ok(['run', '--rm', '-v', 'cu:/data', 'volimg', 'rm', '/data/owned']);
    expect(await ok(['run', '--rm', '-v', 'cu:/data', 'volimg', 'ls', '/data'])).toBe('link');
    expect(await ok(['run', '--rm', '--mount', 'type=volume,src=nc,dst=/data,volume-nocopy', 'volimg', 'ls', '-A', '/data'])).toBe('');
    await ok(['volume', 'rm', 'cu', 'nc']);
  }, 60_000);

  it("anonymous volumes from -v /path and the image's VOLUME: kept by rm, removed by rm -v and --rm", async () => {
    const id = await ok(['create', '-v', '/anon', 'volimg', 'sh', '-c', 'cat /seed/file']);
    const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', id])) as { Type: string; Name: string; Destination: string; Driver: string; RW: boolean; Source: string }[];
    expect(mounts.map((m) => [m.Type, m.Destination, m.Driver, m.RW]).sort()).toEqual([['volume', '/anon', 'local', true], ['volume', '/seed', 'local', true]]);
    for (const m of mounts) expect(m.Name).toMatch(/^[a-f0-9]{64}$/);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .Config.Volumes}}', id]))).toEqual({ '/anon': {}, '/seed': {} });
    expect((await t.docker(['start', '-a', id])).stdout).toBe('seed\n');
    await ok(['rm', '-v', id]);
    expect(volumeDirs()).toEqual([]);
    const kept = await ok(['create', '-v', '/anon', 'busybox', 'true']);
    await ok(['rm', kept]);
    expect(volumeDirs()).toHaveLength(1);
    await ok(['volume', 'prune', '-f']);
    await ok(['run', '--rm', '-v', '/anon', 'volimg', 'true']);
    expect(volumeDirs()).toEqual([]);
  }, 60_000);

  it('read-only volumes and binds refuse writes; -v creates a missing host dir, --mount type=bind refuses it', async () => {
    writeFileSync(join(host, 'h'), 'host\n');
    const r = await t.docker(['run', '--rm', '-v', `${host}:/h:ro`, '-v', 'rov:/v:ro', 'busybox', 'sh', '-c', 'cat /h/h; touch /h/x || echo bind-refused; touch /v/x || echo volume-refused']);
    expect(r.stdout).toBe('host\nbind-refused\nvolume-refused\n');
    expect(existsSync(join(host, 'x'))).toBe(false);
    const c = await ok(['create', '-v', `${host}:/h:ro`, '--mount', 'type=tmpfs,dst=/t', 'busybox', 'true']);
    expect(JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', c]))).toEqual([
      { Type: 'bind', Source: host, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'tmpfs', Source: '', Destination: '/t', Mode: '', RW: true, Propagation: '' },
    ]);
    await ok(['rm', c]);
    await ok(['run', '--rm', '-v', `${host}/made:/m`, 'busybox', 'touch', '/m/f']);
    expect(existsSync(join(host, 'made/f'))).toBe(true);
    const bad = await t.docker(['run', '--rm', '--mount', `type=bind,src=${host}/missing,dst=/x`, 'busybox', 'true']);
    expect(bad.stderr).toContain(`bind source path does not exist: ${host}/missing`);
    expect(existsSync(join(host, 'missing'))).toBe(false);
    await ok(['volume', 'rm', 'rov']);
  }, 60_000);

  it('refuses bad input with a 400 naming the value and makes nothing', async () => {
    for (const [args, message] of [
      [['-v', '/a:/'], "destination can't be '/'"],
      [['-v', 'vv:/d', '-v', '/x:/d'], 'Duplicate mount point: /d'],
      [['-v', 'b@d:/d'], 'create b@d: "b@d" includes invalid characters for a local volume name'],
      [['-v', 'ok1:/d:bogus'], 'invalid mode: bogus'],
    ] as const) {
      const r = await t.docker(['create', ...args, 'busybox', 'true']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    // A failure past the first volume's creation undoes it.
    const late = await t.docker(['create', '-v', 'early:/d', '--mount', `type=bind,src=${host}/nothere,dst=/x`, 'busybox', 'true']);
    expect(late.stderr).toContain('bind source path does not exist');
    const r = await t.docker(['volume', 'create', 'a']);
    expect(r.stderr).toContain('Error response from daemon: create a: volume name is too short, names should be at least two alphanumeric characters');
    expect(await ok(['ps', '-aq'])).toBe('');
    expect(volumeDirs()).toEqual([]);
  });

  it('in use: volume rm refused (409) while a container, stopped too, uses it; --volumes-from shares it', async () => {
    const a = await ok(['create', '--name', 'owner', '-v', 'shared:/s', 'busybox', 'sh', '-c', 'echo x > /s/f']);
    expect((await t.docker(['start', '-a', a])).code).toBe(0);
    const r = await t.docker(['volume', 'rm', 'shared']);
    expect(r.stderr).toContain(`remove shared: volume is in use - [${a}]`);
    expect((await t.docker(['run', '--rm', '--volumes-from', 'owner:ro', 'busybox', 'sh', '-c', 'cat /s/f; touch /s/g || echo ro'])).stdout).toBe('x\nro\n');
    // Prune takes only the unused one.
    await ok(['volume', 'create', 'unused']);
    expect(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('unused');
    expect(await ok(['volume', 'ls', '-q', '--filter', 'dangling=false'])).toBe('shared');
    const pruned = await ok(['volume', 'prune', '-f']);
    expect(pruned).toContain('unused');
    expect(pruned).not.toContain('shared');
    await ok(['run', '--rm', '-v', 'shared:/s', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/s/big bs=1k count=1024 2>/dev/null']);
    const df = JSON.parse(await ok(['system', 'df', '-v', '--format', '{{json .Volumes}}'])) as { Name: string; Links: number; Size: string }[];
    expect(df.map((v) => [v.Name, v.Links])).toEqual([['shared', '1']]);
    expect(df[0].Size).toMatch(/^1\.0\d*MB$/);
    // rm -v of a container takes only its anonymous volumes, never a named one.
    const b = await ok(['create', '-v', 'shared:/s', 'busybox', 'true']);
    const mounts = JSON.parse(await ok(['inspect', '--format', '{{json .Mounts}}', b]));
    expect(mounts).toEqual([{ Type: 'volume', Name: 'shared', Source: join(t.dataRoot, 'volumes/shared/_data'), Destination: '/s', Driver: 'local', Mode: 'z', RW: true, Propagation: '' }]);
    await ok(['rm', '-v', b]);
    await ok(['rm', a]);
    await ok(['volume', 'rm', 'shared']);
    expect(volumeDirs()).toEqual([]);
  }, 60_000);

  it('events type=volume: create, mount, unmount, destroy', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await ok(['run', '--rm', '-v', 'ev:/e', 'busybox', 'true']);
    await ok(['volume', 'rm', 'ev']);
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const out = await ok(['events', '--since', since, '--until', until, '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}}']);
    expect(out.split('\n').filter((l) => l.endsWith(' ev'))).toEqual(['create ev', 'mount ev', 'unmount ev', 'destroy ev']);
  });

  it('--mount type=tmpfs,tmpfs-size= limits the tmpfs; a tmpfs volume is mounted while used', async () => {
    const r = await t.docker(['run', '--rm', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/t/f bs=1k count=2048 2>/dev/null || echo full; df -k /t | tail -1']);
    expect(r.stdout).toContain('full');
    expect(r.stdout).toMatch(/\s1024\s/);
    await ok(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m', 'tv']);
    expect(await ok(['run', '--rm', '-v', 'tv:/t', 'busybox', 'sh', '-c', 'df -k /t | tail -1 | awk \'{print $2}\''])).toBe('2048');
    // Mounted at create (copy-up looks into it) and let go by the rm of a container that never ran.
    const c = await ok(['create', '-v', 'tv:/t', 'busybox', 'true']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(join(t.dataRoot, 'volumes/tv/_data'));
    await ok(['rm', c]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(t.dataRoot, 'volumes/tv/_data'));
    await ok(['volume', 'rm', 'tv']);
    expect(volumeDirs()).toEqual([]);
  }, 60_000);
});

