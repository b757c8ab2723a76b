// Images into containers without a registry: import (OCI layout dir/tar,
// docker save), export, bundles from image configs, tsctl run end to end
// through tsrun, both snapshotters, rmi/prune, and layers that try to escape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLayer, busyboxFiles, writeLayout, type BuiltLayer } from './buildImage.js';
import { ok, tsctl } from './tsctl.js';
import { buildBusyboxImage, dockerArchiveOf } from '../engines/image.mjs';

const RUNC = execFileSync('sh', ['-c', 'command -v runc || true']).toString().trim();
let work: string;
let base: BuiltLayer;
let layout: string;

const mounts = (under: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(under));
const freshRoot = () => mkdtempSync(join(work, 'root-'));

/** A test image as an OCI layout dir, named by its index annotation. */
function image(name: string, layers: BuiltLayer[], config: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(work, 'layout-'));
  writeLayout(dir, { layers, config }, name);
  return dir;
}

/** A layer tar written by Python's tarfile, which writes any entry we ask for. */
function craftedLayer(entries: Array<{ name: string; type: 'file' | 'symlink' | 'dir' | 'link'; data?: string; target?: string }>): BuiltLayer {
  const script = `
import io, sys, tarfile, json
entries = json.loads(sys.argv[1])
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
    for e in entries:
        ti = tarfile.TarInfo(e['name'])
        if e['type'] == 'file':
            data = e.get('data', '').encode(); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
        else:
            ti.type = {'symlink': tarfile.SYMTYPE, 'dir': tarfile.DIRTYPE, 'link': tarfile.LNKTYPE}[e['type']]
            ti.linkname = e.get('target', ''); ti.mode = 0o755; t.addfile(ti)
sys.stdout.buffer.write(buf.getvalue())
`;
  const tar = execFileSync('python3', ['-c', script, JSON.stringify(entries)]);
  return { tar, blob: tar, mediaType: 'application/vnd.oci.image.layer.v1.tar' };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsctl-ctr-'));
  base = buildLayer(busyboxFiles());
  layout = image('docker.io/library/busybox:latest', [base], { Entrypoint: null, Cmd: ['sh'] });
}, 60_000);

afterAll(() => {
  for (const m of mounts(work).reverse()) {
    try { execFileSync('umount', ['-l', m.split(' ')[4]]); } catch { /* gone */ }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('tsctl run', () => {
  it('runs `tsctl run busybox echo hi` end to end through tsrun, and --rm leaves nothing', () => {
    const root = freshRoot();
    ok(tsctl(root, ['import', layout]));
    const r = ok(tsctl(root, ['run', '--rm', 'busybox', 'echo', 'hi']));
    expect(r.stdout).toBe('hi\n');
    expect(JSON.parse(ok(tsctl(root, ['ps', '--format', 'json'])).stdout)).toEqual([]);
    expect(readdirSync(join(root, 'state/bundles'))).toEqual([]);
    const snaps = readdirSync(join(root, 'snapshots/overlay/snapshots'));
    expect(snaps).toHaveLength(1); // the image's layer only
    expect(mounts(root)).toEqual([]);
    expect(existsSync(join(root, 'run')) ? readdirSync(join(root, 'run')) : []).toEqual([]);
  });

  it('passes the exit code through and applies the image config: entrypoint, cmd, env, workdir, user', () => {
    const root = freshRoot();
    const dir = image('example.com/app:1', [base], {
      Entrypoint: ['sh', '-c'],
      Cmd: ['echo "$GREETING from $(pwd) as $(id -u):$(id -g) groups $(id -G)"; exit 3'],
      Env: ['GREETING=hello'],
      WorkingDir: '/home/user',
      User: 'user',
      Volumes: { '/data': {} },
      StopSignal: 'SIGQUIT',
    });
    ok(tsctl(root, ['import', dir]));
    const r = tsctl(root, ['run', '--rm', 'example.com/app:1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('hello from /home/user as 1000:1000 groups 1000 50\n');
    // Overrides: a new Cmd keeps the entrypoint; env and user flags win.
    const r2 = ok(tsctl(root, ['run', '--rm', '-e', 'GREETING=hey', '-u', 'root:staff', 'example.com/app:1', 'echo $GREETING $(id -u):$(id -g) $PATH']));
    expect(r2.stdout).toBe('hey 0:50 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    const r3 = ok(tsctl(root, ['run', '--rm', '--entrypoint', 'echo', 'example.com/app:1', 'plain']));
    expect(r3.stdout).toBe('plain\n');
    const bad = tsctl(root, ['run', '--rm', '-u', 'nobody', 'example.com/app:1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`no user "nobody" in the image's /etc/passwd`);
    expect(mounts(root)).toEqual([]);
    expect(JSON.parse(ok(tsctl(root, ['ps', '--format', 'json'])).stdout)).toEqual([]);
  });

  it('a container that fails to start: the runtime\'s error, its exit code, and --rm still cleans up', () => {
    const root = freshRoot();
    ok(tsctl(root, ['import', layout]));
    const r = tsctl(root, ['run', '--rm', 'busybox', 'no-such-command']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('tsrun: find the executable "no-such-command"');
    expect(JSON.parse(ok(tsctl(root, ['ps', '--format', 'json'])).stdout)).toEqual([]);
    expect(readdirSync(join(root, 'snapshots/overlay/snapshots'))).toHaveLength(1);
    expect(readdirSync(join(root, 'state/bundles'))).toEqual([]);
    expect(mounts(root)).toEqual([]);
  });

  it('writes a bundle whose config.json follows the image, runnable by tsrun directly', () => {
    const root = freshRoot();
    const dir = image('example.com/app:2', [base], { Cmd: ['hostname'], Volumes: { '/data': {} }, ExposedPorts: { '8080/tcp': {} }, StopSignal: 'SIGQUIT' });
    ok(tsctl(root, ['import', dir]));
    const bundle = join(work, 'bundle-app2');
    ok(tsctl(root, ['bundle', '--name', 'app2', 'example.com/app:2', bundle]));
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    expect(config.process.args).toEqual(['hostname']);
    expect(config.annotations['io.tsrun.image.volumes']).toBe('["/data"]');
    expect(config.annotations['io.tsrun.image.exposed-ports']).toBe('["8080/tcp"]');
    expect(config.annotations['org.opencontainers.image.stopSignal']).toBe('SIGQUIT');
    expect(config.linux.namespaces.map((n: { type: string }) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'network']);
    expect(readdirSync(join(bundle, 'rootfs'))).toContain('bin');
    const run = execFileSync(join(import.meta.dirname, '../../bin/tsrun'), ['--root', join(root, 'run'), 'run', '--bundle', bundle, 'app2'], { encoding: 'utf8', input: '' });
    expect(run).toBe('app2\n');
    ok(tsctl(root, ['rm', 'app2']));
    expect(existsSync(join(bundle, 'config.json'))).toBe(false);
    expect(mounts(bundle)).toEqual([]);
  });

  // CI installs runc; on a machine without it this one is skipped, and says so.
  it.skipIf(!RUNC)('runs the same bundle with runc (tsctl drives any runc-compatible runtime)', () => {
    const runc = RUNC;
    const root = freshRoot();
    ok(tsctl(root, ['import', layout]));
    const r = ok(tsctl(root, ['--runtime', runc, 'run', '--rm', 'busybox', 'sh', '-c', 'echo hi; cat /proc/self/cgroup']));
    expect(r.stdout).toMatch(/^hi\n/);
    expect(r.stdout).toMatch(/:\/tsctl\/[a-f0-9]{12}$/m);
    expect(mounts(root)).toEqual([]);
    expect(JSON.parse(ok(tsctl(root, ['ps', '--format', 'json'])).stdout)).toEqual([]);
  });

  it('works the same with the copy snapshotter (whiteouts applied as deletions)', () => {
    const root = freshRoot();
    const l2 = buildLayer({ 'data/a': 'a', 'data/b': 'b', 'opq/old': 'old', gone: 'x' });
    const l3 = buildLayer({ '.wh.gone': '', 'data/.wh.a': '', 'opq/.wh..wh..opq': '', 'opq/new': 'new' });
    ok(tsctl(root, ['--snapshotter', 'copy', 'import', image('example.com/wh:1', [base, l2, l3])]));
    const r = ok(tsctl(root, ['--snapshotter', 'copy', 'run', '--rm', 'example.com/wh:1', 'sh', '-c', 'ls /data /opq; test -e /gone || echo no-gone']));
    expect(r.stdout).toBe('/data:\nb\n\n/opq:\nnew\nno-gone\n');
    expect(readdirSync(join(root, 'snapshots/copy/snapshots'))).toHaveLength(3);
    expect(mounts(root)).toEqual([]);
  });
});

describe('tsctl import and export', () => {
  it('imports an OCI layout tar and a docker save archive (as engines write them)', () => {
    const ociTar = buildBusyboxImage();
    try {
      const root = freshRoot();
      const r = ok(tsctl(root, ['import', ociTar]));
      expect(r.stdout).toMatch(/^docker\.io\/library\/busybox:tsrun-test: sha256:/);
      const root2 = freshRoot();
      ok(tsctl(root2, ['import', dockerArchiveOf(ociTar)]));
      const a = JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout);
      const b = JSON.parse(ok(tsctl(root2, ['images', '--format', 'json'])).stdout);
      expect(b[0].id).toBe(a[0].id); // same config: same image ID
      expect(ok(tsctl(root2, ['run', '--rm', 'busybox:tsrun-test', 'echo', 'from docker save'])).stdout).toBe('from docker save\n');
    } finally {
      rmSync(ociTar, { force: true });
      rmSync(dockerArchiveOf(ociTar), { force: true });
    }
  });

  it('exports images to a tar that imports back with the same digests', () => {
    const root = freshRoot();
    ok(tsctl(root, ['import', layout]));
    ok(tsctl(root, ['import', image('example.com/two:1', [base, buildLayer({ two: '2' })])]));
    const tar = join(work, 'export.tar');
    ok(tsctl(root, ['export', tar, 'busybox', 'example.com/two:1']));
    const listing = execFileSync('tar', ['-tf', tar]).toString().split('\n');
    expect(listing).toContain('index.json');
    expect(listing).toContain('manifest.json');
    expect(listing).toContain('oci-layout');
    const root2 = freshRoot();
    ok(tsctl(root2, ['import', tar]));
    const strip = (j: string) => JSON.parse(j).map((i: Record<string, unknown>) => [i.name, i.id, i.digest]);
    expect(strip(ok(tsctl(root2, ['images', '--format', 'json'])).stdout)).toEqual(strip(ok(tsctl(root, ['images', '--format', 'json'])).stdout));
    // skopeo reads it as an OCI layout too.
    const dir = mkdtempSync(join(work, 'untar-'));
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${dir}:latest`]).toString());
    expect(inspect.layers).toHaveLength(1);
  });

  it('refuses an archive whose blob does not match its name, and leaves no image', () => {
    const root = freshRoot();
    const dir = image('example.com/bad:1', [base, buildLayer({ x: 'x' })]);
    const blobs = join(dir, 'blobs/sha256');
    const victim = readdirSync(blobs).find((n) => readFileSync(join(blobs, n)).length > 100 && readFileSync(join(blobs, n)).length < 400)!;
    writeFileSync(join(blobs, victim), Buffer.concat([readFileSync(join(blobs, victim)), Buffer.from('tampered')]));
    const r = tsctl(root, ['import', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`verify sha256:${victim}`);
    expect(JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout)).toEqual([]);
  });
});

describe('tsctl rmi, prune and system df', () => {
  it('removes an image and only the content no other image uses', () => {
    const root = freshRoot();
    ok(tsctl(root, ['import', layout]));
    ok(tsctl(root, ['import', image('example.com/two:1', [base, buildLayer({ two: '2' })])]));
    const blobsBefore = readdirSync(join(root, 'content/blobs/sha256')).length;
    expect(readdirSync(join(root, 'snapshots/overlay/snapshots'))).toHaveLength(2);
    ok(tsctl(root, ['rmi', 'example.com/two:1']));
    expect(readdirSync(join(root, 'snapshots/overlay/snapshots'))).toHaveLength(1);
    expect(readdirSync(join(root, 'content/blobs/sha256')).length).toBe(blobsBefore - 3); // its manifest, config and own layer
    expect(ok(tsctl(root, ['run', '--rm', 'busybox', 'echo', 'still here'])).stdout).toBe('still here\n');
    // An image a container uses is kept unless forced.
    ok(tsctl(root, ['bundle', '--name', 'user1', 'busybox', join(work, 'b-user1')]));
    const refused = tsctl(root, ['rmi', 'busybox']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('container user1 uses it');
    ok(tsctl(root, ['rm', 'user1']));
    ok(tsctl(root, ['rmi', 'busybox']));
    expect(readdirSync(join(root, 'content/blobs/sha256'))).toEqual([]);
    expect(readdirSync(join(root, 'snapshots/overlay/snapshots'))).toEqual([]);
    const df = JSON.parse(ok(tsctl(root, ['system', 'df', '--format', 'json'])).stdout);
    expect(df).toMatchObject({ images: 0, layers: 0, contentBytes: 0, containers: 0 });
  });
});

describe('layers that try to leave their directory', () => {
  it('refuses a ".." entry', () => {
    const root = freshRoot();
    const evil = craftedLayer([{ name: '../../../../tmp/tsctl-escape-dotdot', type: 'file', data: 'pwned' }]);
    const r = tsctl(root, ['import', image('example.com/evil:1', [base, evil])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has a ".." component');
    expect(existsSync('/tmp/tsctl-escape-dotdot')).toBe(false);
    expect(JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout)).toEqual([]);
  });

  it('refuses to write through a symlink the layer itself planted', () => {
    const root = freshRoot();
    const outside = mkdtempSync(join(work, 'outside-'));
    const evil = craftedLayer([
      { name: 'escape', type: 'symlink', target: outside },
      { name: 'escape/owned', type: 'file', data: 'pwned' },
    ]);
    const r = tsctl(root, ['import', image('example.com/evil:2', [base, evil])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a symlink; a layer never writes through one');
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses a hard link to a file outside the layer', () => {
    const root = freshRoot();
    const evil = craftedLayer([{ name: 'shadow', type: 'link', target: '../../../../etc/shadow' }]);
    const r = tsctl(root, ['import', image('example.com/evil:3', [evil])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('has a ".." component');
  });
});
