// tsctl pull against a real registry (Debian's docker-registry on 127.0.0.1),
// images pushed with skopeo: digests, layer dedup, whiteouts, compression,
// platforms, auth, resume, and bad registries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry, freePort, type Registry } from './registry.js';
import { buildLayer, busyboxFiles, push, writeLayout, type BuiltLayer } from './buildImage.js';
import { startProxy } from './proxy.js';
import { ok, tsctl, tsctlAsync } from './tsctl.js';
import { addon } from '../../src/native/addon.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let reg: Registry;
let work: string;
let base: BuiltLayer;
let files: BuiltLayer;
let deletes: BuiltLayer;
let multi: { manifest: string; config: string };

function mounts(under: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(under));
}

function freshRoot(): string {
  return mkdtempSync(join(work, 'root-'));
}

/** Nothing of a failed pull may be visible: no image, no extract snapshot, no mount. */
function expectNothingVisible(root: string) {
  expect(JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout)).toEqual([]);
  const snaps = join(root, 'snapshots', 'overlay', 'snapshots');
  for (const id of existsSync(snaps) ? readdirSync(snaps) : []) {
    const info = JSON.parse(readFileSync(join(snaps, id, 'info.json'), 'utf8'));
    expect(info.kind, `snapshot ${info.name}`).toBe('committed');
  }
  expect(mounts(root)).toEqual([]);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tsctl-pull-'));
  reg = await startRegistry();
  base = buildLayer(busyboxFiles(), 'gzip');
  files = buildLayer({ 'etc/motd': 'hello from layer 2\n', 'data/a': 'a', 'data/b': 'b', 'opq/old': 'old', 'gone': 'x', 'keep/file': 'k' }, 'none');
  deletes = buildLayer({ '.wh.gone': '', 'data/.wh.a': '', 'opq/.wh..wh..opq': '', 'opq/new': 'new' }, 'zstd');
  const dir = join(work, 'multi');
  multi = writeLayout(dir, { layers: [base, files, deletes], config: { Cmd: ['cat', '/etc/motd'], User: 'user', WorkingDir: '/home/user', ExposedPorts: { '80/tcp': {} } } });
  push(dir, `${reg.host}/test/multi:v1`);
  const other = join(work, 'other');
  writeLayout(other, { layers: [base, buildLayer({ 'other.txt': 'other image\n' })] });
  push(other, `${reg.host}/test/other:v1`);
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  for (const m of mounts(work).reverse()) {
    const target = m.split(' ')[4];
    try { execFileSync('umount', ['-l', target]); } catch { /* gone */ }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('tsctl pull', () => {
  it('stores every blob under its verified digest and names the image', () => {
    const root = freshRoot();
    const r = ok(tsctl(root, ['pull', `${reg.host}/test/multi:v1`]));
    expect(r.stdout).toContain(`${reg.host}/test/multi:v1: ${multi.manifest}`);
    const images = JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout);
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ name: `${reg.host}/test/multi:v1`, id: multi.config, digest: multi.manifest, tag: 'v1' });
    const blobs = join(root, 'content/blobs/sha256');
    const names = readdirSync(blobs);
    for (const l of [base, files, deletes]) expect(names).toContain(sha(l.blob).slice(7));
    for (const n of names) expect(sha(readFileSync(join(blobs, n)))).toBe(`sha256:${n}`);
    // Nothing half-done left behind by a good pull.
    expect(existsSync(join(root, 'content/ingest')) ? readdirSync(join(root, 'content/ingest')) : []).toEqual([]);
  });

  it('unpacks gzip, zstd and plain layers with whiteouts and opaque dirs, as seen from a container', () => {
    const root = freshRoot();
    ok(tsctl(root, ['pull', `${reg.host}/test/multi:v1`]));
    const r = ok(tsctl(root, ['run', '--rm', '-u', 'root', `${reg.host}/test/multi:v1`, 'sh', '-c', 'cat /etc/motd; ls /data; ls /opq; ls /keep; test -e /gone && echo GONE-STILL-THERE; true']));
    expect(r.stdout).toBe('hello from layer 2\nb\nnew\nfile\n');
  });

  it('keeps whiteouts in overlay form in the layer snapshot', () => {
    const root = freshRoot();
    ok(tsctl(root, ['pull', `${reg.host}/test/multi:v1`]));
    const snaps = join(root, 'snapshots/overlay/snapshots');
    const layerDirs = readdirSync(snaps).map((id) => join(snaps, id, 'fs'));
    const top = layerDirs.find((d) => existsSync(join(d, 'opq/new')))!;
    const wh = lstatSync(join(top, 'gone'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(addon().lgetxattr(join(top, 'opq'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(addon().lgetxattr(join(top, 'data'), 'trusted.overlay.opaque')).toBeNull();
  });

  it('stores a layer shared by two images once', () => {
    const root = freshRoot();
    ok(tsctl(root, ['pull', `${reg.host}/test/multi:v1`]));
    const before = readdirSync(join(root, 'snapshots/overlay/snapshots')).length;
    ok(tsctl(root, ['pull', `${reg.host}/test/other:v1`]));
    const after = readdirSync(join(root, 'snapshots/overlay/snapshots')).length;
    expect(before).toBe(3);
    expect(after).toBe(4); // the other image adds one layer; busybox is shared
    const df = JSON.parse(ok(tsctl(root, ['system', 'df', '--format', 'json'])).stdout);
    const busyboxBytes = statSync('/bin/busybox').size;
    expect(df.sharedBytes).toBeGreaterThanOrEqual(busyboxBytes);
    expect(df.perImage.find((i: { name: string }) => i.name.endsWith('other:v1')).uniqueBytes).toBe('other image\n'.length);
    expect(ok(tsctl(root, ['run', '--rm', `${reg.host}/test/other:v1`, 'cat', '/other.txt'])).stdout).toBe('other image\n');
  });

  it('writes of a container land in its upper dir, never in the image', () => {
    const root = freshRoot();
    ok(tsctl(root, ['pull', `${reg.host}/test/multi:v1`]));
    const snaps = join(root, 'snapshots/overlay/snapshots');
    const layerIds = readdirSync(snaps);
    const listing = () => execFileSync('sh', ['-c', `cd ${snaps} && find ${layerIds.join(' ')} -exec stat -c '%n %s %Y %i' {} + | sort`]).toString();
    const layersBefore = listing();
    ok(tsctl(root, ['run', '--name', 'writer', '-u', 'root', `${reg.host}/test/multi:v1`, 'sh', '-c', 'echo changed > /etc/motd; echo new > /new-file; rm /bin/vi']));
    const ps = JSON.parse(ok(tsctl(root, ['ps', '--format', 'json'])).stdout);
    expect(ps.map((c: { id: string }) => c.id)).toEqual(['writer']);
    const upper = readdirSync(snaps).map((id) => join(snaps, id)).find((d) => JSON.parse(readFileSync(join(d, 'info.json'), 'utf8')).name === 'container/writer')!;
    expect(readFileSync(join(upper, 'fs/etc/motd'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(upper, 'fs/new-file'), 'utf8')).toBe('new\n');
    expect(lstatSync(join(upper, 'fs/bin/vi')).isCharacterDevice()).toBe(true);
    expect(listing()).toBe(layersBefore);
    // A second container of the image sees the image, not the first one's writes.
    expect(ok(tsctl(root, ['run', '--rm', `${reg.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
    ok(tsctl(root, ['rm', 'writer']));
    expect(existsSync(upper)).toBe(false);
    expect(mounts(root)).toEqual([]);
  });

  it('selects the platform from an index, and says which platforms exist when none fits', () => {
    const dir = join(work, 'arm-only');
    writeLayout(dir, { layers: [buildLayer({ 'arch': 'arm64' })], architecture: 'arm64' });
    // Wrap the manifest in an index that says linux/arm64.
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const inner = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ ...index.manifests[0], annotations: undefined, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }] }));
    writeFileSync(join(dir, 'blobs/sha256', sha(inner).slice(7)), inner);
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(inner), size: inner.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
    push(dir, `${reg.host}/test/armonly:v1`, ['--all']);
    const root = freshRoot();
    const r = tsctl(root, ['pull', `${reg.host}/test/armonly:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('select platform');
    expect(r.stderr).toContain('no manifest for linux/amd64; the image has linux/arm64/v8');
    expectNothingVisible(root);
    const r2 = ok(tsctl(root, ['pull', '--platform', 'linux/arm64', `${reg.host}/test/armonly:v1`]));
    expect(r2.stdout).toContain(sha(inner));
  });

  it('pulls a Docker schema2 manifest and a Docker manifest list', () => {
    const dir = join(work, 'v2s2');
    writeLayout(dir, { layers: [base, buildLayer({ 'docker.txt': 'schema2\n' })] });
    execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--format', 'v2s2', `oci:${dir}:latest`, `docker://${reg.host}/test/docker:v1`]);
    const root = freshRoot();
    const r = ok(tsctl(root, ['pull', '--format', 'json', `${reg.host}/test/docker:v1`]));
    expect(JSON.parse(r.stdout).target.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(ok(tsctl(root, ['run', '--rm', `${reg.host}/test/docker:v1`, 'cat', '/docker.txt'])).stdout).toBe('schema2\n');
    // A manifest list naming it for linux/amd64 (pushed by hand: PUT /v2/<name>/manifests/<tag>).
    const raw = execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/docker:v1`]);
    const list = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [
      { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: sha(raw), size: raw.length, platform: { os: 'linux', architecture: 'amd64' } },
    ] });
    execFileSync('curl', ['-fsS', '-X', 'PUT', '-H', 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json', '--data-binary', list, `http://${reg.host}/v2/test/docker/manifests/list`]);
    const r2 = ok(tsctl(root, ['pull', '--format', 'json', `${reg.host}/test/docker:list`]));
    expect(JSON.parse(r2.stdout)).toMatchObject({ target: { mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json' }, manifest: { digest: sha(raw) } });
  });

  it('pulls `busybox` through a docker.io mirror and runs `tsctl run busybox echo hi`', () => {
    const dir = join(work, 'busybox');
    writeLayout(dir, { layers: [base] });
    push(dir, `${reg.host}/library/busybox:latest`);
    const root = freshRoot();
    const r = ok(tsctl(root, ['--mirror', `docker.io=${reg.host}`, 'pull', 'busybox']));
    expect(r.stdout).toMatch(/^docker\.io\/library\/busybox:latest: sha256:/);
    expect(ok(tsctl(root, ['run', '--rm', 'busybox', 'echo', 'hi'])).stdout).toBe('hi\n');
    // run pulls what is not here, through the mirror from the environment.
    const root2 = freshRoot();
    expect(ok(tsctl(root2, ['run', '--rm', 'busybox', 'echo', 'hi'], { TSCTL_MIRRORS: `docker.io=${reg.host}` })).stdout).toBe('hi\n');
    expect(JSON.parse(ok(tsctl(root2, ['images', '--format', 'json'])).stdout)[0].name).toBe('docker.io/library/busybox:latest');
  });

  it('falls back from a mirror that fails to the registry itself, as dockerd does', async () => {
    // A mirror where nothing listens: the pull warns and asks the registry.
    const dead = await freePort();
    const root = freshRoot();
    const r = await tsctlAsync(root, ['--mirror', `${reg.host}=127.0.0.1:${dead}`, 'pull', `${reg.host}/test/multi:v1`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`tsctl: warning: mirror 127.0.0.1:${dead} for ${reg.host} failed: `);
    expect(r.stderr).toContain('ECONNREFUSED');
    // A mirror that breaks in the middle of a layer: the registry finishes it.
    const proxy = await startProxy({ upstream: reg.host, cut: { digest: sha(base.blob), after: 300_000 } });
    try {
      const root2 = freshRoot();
      const r2 = await tsctlAsync(root2, ['--mirror', `${reg.host}=${proxy.host}`, 'pull', `${reg.host}/test/multi:v1`]);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr).toMatch(/warning: mirror .* failed: .*interrupted after/);
      expect(proxy.requests.some((q) => q.url.endsWith(sha(base.blob)))).toBe(true);
      expect(readdirSync(join(root2, 'content/ingest')).filter((n) => n.endsWith('.partial'))).toEqual([]);
      expect(ok(await tsctlAsync(root2, ['run', '--rm', `${reg.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
    } finally {
      await proxy.close();
    }
  });

  it('draws a progress bar per layer on a terminal', () => {
    const root = freshRoot();
    const cmd = `${join(import.meta.dirname, '../../bin/tsctl')} --root ${root} pull ${reg.host}/test/multi:v1`;
    const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
    for (const l of [base, files, deletes]) expect(out).toContain(`${sha(l.blob).slice(7, 19)}: unpacked`);
    expect(out).toMatch(/\x1b\[\d+A/); // redrawn in place
  });

  it('lets four pulls of one image run at once: all succeed, each layer stored once', async () => {
    const root = freshRoot();
    const runs = await Promise.all([1, 2, 3, 4].map(() => tsctlAsync(root, ['pull', `${reg.host}/test/multi:v1`])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(root, 'snapshots/overlay/snapshots'))).toHaveLength(3);
    expect(readdirSync(join(root, 'content/ingest'))).toEqual([]);
    expect(ok(tsctl(root, ['run', '--rm', `${reg.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
  });

  it('makes prune wait for a pull under way instead of collecting what it builds', async () => {
    const proxy = await startProxy({ upstream: reg.host, hold: { digest: sha(base.blob), after: 100_000 } });
    try {
      const root = freshRoot();
      const pulling = tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`]);
      await proxy.holding;
      // Once the held bytes reach the disk, the pull has an extract snapshot and a partial download that no image names yet.
      const partialWritten = () => {
        const dir = join(root, 'content/ingest');
        // Another blob's partial may be renamed into place between the readdir and the stat.
        return existsSync(dir) && readdirSync(dir).some((n) => n.endsWith('.partial') && (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0) > 0);
      };
      for (let i = 0; i < 200 && !partialWritten(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(partialWritten()).toBe(true);
      let pruned = false;
      const pruning = tsctlAsync(root, ['prune']).then((r) => { pruned = true; return r; });
      await new Promise((r) => setTimeout(r, 1000));
      expect(pruned, 'prune finished while the pull was still under way').toBe(false);
      proxy.release();
      expect((await pulling).code, 'pull').toBe(0);
      expect((await pruning).code, 'prune').toBe(0);
      expect(ok(await tsctlAsync(root, ['run', '--rm', `${proxy.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
    } finally {
      proxy.release();
      await proxy.close();
    }
  });

  it('pulls by digest and refuses a tag whose content does not match', () => {
    const root = freshRoot();
    ok(tsctl(root, ['pull', `${reg.host}/test/multi@${multi.manifest}`]));
    const r = tsctl(root, ['pull', `${reg.host}/test/multi@sha256:${'0'.repeat(64)}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fetch manifest sha256:0+ .*HTTP 404/);
  });

  it('follows a Bearer token challenge with credentials from an auth file', async () => {
    const proxy = await startProxy({ upstream: reg.host, auth: 'bearer', user: 'alice', password: 's3cret' });
    try {
      const root = freshRoot();
      const anon = await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`]);
      expect(anon.code).toBe(1);
      expect(anon.stderr).toMatch(/get a registry token .*HTTP 401/);
      const authFile = join(root, 'auth.json');
      writeFileSync(authFile, JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from('alice:s3cret').toString('base64') } } }));
      ok(await tsctlAsync(root, ['pull', '--auth-file', authFile, `${proxy.host}/test/multi:v1`]));
      expect(proxy.requests.some((q) => q.url.startsWith('/token?') && q.url.includes('scope=repository%3Atest%2Fmulti%3Apull'))).toBe(true);
      expect(proxy.requests.filter((q) => q.url.includes('/blobs/')).every((q) => q.authorization === 'Bearer token-for-tests')).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('answers a Basic challenge with stored credentials, and says when there are none', async () => {
    const proxy = await startProxy({ upstream: reg.host, auth: 'basic', user: 'bob', password: 'pw' });
    try {
      const root = freshRoot();
      const anon = await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`], { REGISTRY_AUTH_FILE: join(root, 'none.json'), HOME: root });
      expect(anon.code).toBe(1);
      expect(anon.stderr).toContain('wants a user name and password (Basic) and none is stored');
      writeFileSync(join(root, 'auth.json'), JSON.stringify({ auths: { [proxy.host]: { username: 'bob', password: 'pw' } } }));
      ok(await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`], { REGISTRY_AUTH_FILE: join(root, 'auth.json') }));
    } finally {
      await proxy.close();
    }
  });

  it('resumes an interrupted layer download from where it stopped', async () => {
    const proxy = await startProxy({ upstream: reg.host, cut: { digest: sha(base.blob), after: 300_000 } });
    try {
      const root = freshRoot();
      const first = await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`]);
      expect(first.code).toBe(1);
      expect(first.stderr).toMatch(/interrupted after \d+ of \d+ bytes .*next pull resumes it/);
      expectNothingVisible(root);
      const partial = readdirSync(join(root, 'content/ingest')).find((n) => n.endsWith('.partial'))!;
      expect(statSync(join(root, 'content/ingest', partial)).size).toBe(300_000);
      ok(await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`]));
      expect(proxy.requests.some((q) => q.url.endsWith(sha(base.blob)) && q.range === 'bytes=300000-')).toBe(true);
      expect(ok(await tsctlAsync(root, ['run', '--rm', `${proxy.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
    } finally {
      await proxy.close();
    }
  });

  it('a resumed download that does not add up is fetched again from the first byte, once', async () => {
    const proxy = await startProxy({ upstream: reg.host });
    try {
      const root = freshRoot();
      // A partial whose bytes are not the blob's (what a crash or a changed disk may leave):
      // the rest comes on a Range request and the digest comes out wrong.
      mkdirSync(join(root, 'content/ingest'), { recursive: true });
      writeFileSync(join(root, 'content/ingest', `${sha(base.blob).slice(7)}.partial`), Buffer.alloc(300_000, 7));
      const r = ok(await tsctlAsync(root, ['pull', `${proxy.host}/test/multi:v1`]));
      // The unpacker, reading the bytes as they come, is first to see them wrong (else the digest is).
      expect(r.stderr).toMatch(new RegExp(`layer ${sha(base.blob)}: .*, after resuming a partial download: fetching it again from the start`));
      const gets = proxy.requests.filter((q) => q.method === 'GET' && q.url.endsWith(sha(base.blob))).map((q) => q.range ?? 'whole');
      expect(gets).toEqual(['bytes=300000-', 'whole']);
      expect(ok(await tsctlAsync(root, ['run', '--rm', `${proxy.host}/test/multi:v1`])).stdout).toBe('hello from layer 2\n');
      expect(readdirSync(join(root, 'content/ingest')).filter((n) => !n.endsWith('.lock'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('tsctl pull from a bad registry', () => {
  /** A copy of the multi image under a new name whose blob in registry storage we may break. */
  function pushCopy(name: string): string {
    const layer = buildLayer({ 'payload': `${name} `.repeat(5000) });
    const dir = join(work, name);
    writeLayout(dir, { layers: [base, layer] });
    push(dir, `${reg.host}/test/${name}:v1`);
    const hex = sha(layer.blob).slice(7);
    return join(reg.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
  }

  it('refuses a blob whose content does not match its digest', () => {
    const data = pushCopy('tampered');
    const b = readFileSync(data);
    b[b.length - 10] ^= 0xff;
    writeFileSync(data, b);
    const root = freshRoot();
    const r = tsctl(root, ['pull', `${reg.host}/test/tampered:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/verify sha256:[a-f0-9]{64} ".*": the registry sent content with digest sha256:/);
    expectNothingVisible(root);
    expect(readdirSync(join(root, 'content/ingest')).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('refuses a truncated blob', () => {
    const data = pushCopy('truncated');
    truncateSync(data, statSync(data).size - 100);
    const root = freshRoot();
    const r = tsctl(root, ['pull', `${reg.host}/test/truncated:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/truncated blob|interrupted after/);
    expectNothingVisible(root);
  });

  it('names the registry and errno when nothing listens', async () => {
    const port = await freePort();
    const root = freshRoot();
    const r = tsctl(root, ['pull', `127.0.0.1:${port}/test/multi:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`fetch manifest v1 "http://127.0.0.1:${port}/v2/test/multi/manifests/v1": connect: ECONNREFUSED`);
    expectNothingVisible(root);
  });

  it('fails cleanly on a full disk and leaves no half-visible image', () => {
    const root = freshRoot();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1200k', 'tmpfs', root]);
    try {
      const r = tsctl(root, ['pull', `${reg.host}/test/multi:v1`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ENOSPC');
      expect(JSON.parse(ok(tsctl(root, ['images', '--format', 'json'])).stdout)).toEqual([]);
      ok(tsctl(root, ['prune']));
      // Only the store's lock files stay (a lock file must outlive its holders).
      const left = execFileSync('find', [root, '-type', 'f', '-not', '-name', 'gc.lock', '-not', '-name', '.lock']).toString().trim();
      expect(left).toBe('');
    } finally {
      execFileSync('umount', [root]);
    }
  });

  it('rejects a name that is not an image reference', () => {
    const r = tsctl(freshRoot(), ['pull', 'Bad Name']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid image reference');
  });
});
