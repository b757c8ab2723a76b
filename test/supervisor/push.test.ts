// Sharing images through tsd with the real docker CLI: docker push to the
// private registry (dockerd's progress lines, the digest line, "Layer already
// exists" the second time, a layer mounted from another repository, RepoDigests),
// rmi and pull back by tag and by digest, run; a push through a registry that
// wants credentials (docker login, and a wrong password naming the registry and
// the 401); docker save / docker load through a file and a pipe; a corrupt
// archive refused with nothing left behind.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, writeLayout } from '../images/buildImage.js';
import { startProxy, type Proxy } from '../images/proxy.js';
import { freePort } from '../images/registry.js';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
let reg: string;
let proxy: Proxy;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? files(join(dir, e)) : [join(dir, e)]));
}

/** The daemon's answer to a request made with curl. */
function curl(args: string[]): { status: number; body: string } {
  const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', t.socket, ...args], { encoding: 'utf8' });
  const nl = out.lastIndexOf('\n');
  return { status: Number(out.slice(nl + 1)), body: out.slice(0, nl) };
}

beforeAll(async () => {
  t = await startTsd();
  reg = t.registry.host;
  expect((await t.docker(['pull', '-q', `${reg}/library/busybox:latest`])).code).toBe(0);
  proxy = await startProxy({ upstream: reg, auth: 'bearer', user: 'alice', password: 'secret' });
});

afterAll(async () => {
  await proxy?.close();
  expect(await closeAndCheck(t)).toEqual([]);
});

describe('docker push, save and load against tsd', () => {
  it('pushes with dockerd\'s stream, then "Layer already exists"; RepoDigests; rmi, pull back by tag and digest, run', async () => {
    const name = `${reg}/bb:1`;
    expect((await t.docker(['tag', `${reg}/library/busybox`, name])).code).toBe(0);
    const diffId = (await t.docker(['image', 'inspect', name, '--format', '{{index .RootFS.Layers 0}}'])).stdout.trim();
    // The layer is in library/busybox on this registry: mounted from there, not uploaded.
    const first = await t.docker(['push', name]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines[0]).toBe(`The push refers to repository [${reg}/bb]`);
    expect(lines).toContain(`${diffId.slice(7, 19)}: Preparing`);
    expect(lines).toContain(`${diffId.slice(7, 19)}: Mounted from library/busybox`);
    const last = lines.at(-1)!;
    const m = /^1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(last);
    expect(m, last).not.toBeNull();
    const digest = m![1];
    // What the registry has under the tag is that manifest.
    const head = await fetch(`http://${reg}/v2/bb/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    expect(head.headers.get('docker-content-digest')).toBe(digest);
    expect(Number(head.headers.get('content-length'))).toBe(Number(m![2]));

    const again = await t.docker(['push', name]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${diffId.slice(7, 19)}: Layer already exists`);
    expect(again.stdout.trim().split('\n').at(-1)).toBe(last);

    // The stream as the API sends it: Docker's aux line with the tag, digest and size.
    const stream = curl(['-X', 'POST', `http://tsd/v1.41/images/${reg}/bb/push?tag=1`]);
    expect(stream.status).toBe(200);
    const messages = stream.body.trim().split('\r\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(messages.at(-1)).toEqual({ progressDetail: {}, aux: { Tag: '1', Digest: digest, Size: Number(m![2]) } });

    const inspect = JSON.parse((await t.docker(['image', 'inspect', name])).stdout)[0];
    expect(inspect.RepoDigests).toContain(`${reg}/bb@${digest}`);
    const listed = await t.docker(['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}', `${reg}/bb`]);
    expect(listed.stdout.trim()).toBe(`${reg}/bb 1 ${digest}`);

    expect((await t.docker(['rmi', name])).code).toBe(0);
    expect((await t.docker(['image', 'inspect', name])).code).toBe(1);
    const pull = await t.docker(['pull', name]);
    expect(pull.stdout).toContain(`Digest: ${digest}`);
    expect((await t.docker(['rmi', name])).code).toBe(0);
    const byDigest = await t.docker(['pull', `${reg}/bb@${digest}`]);
    expect(byDigest.stderr).toBe('');
    expect(byDigest.code).toBe(0);
    const run = await t.docker(['run', '--rm', `${reg}/bb@${digest}`, 'echo', 'pushed and back']);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('pushed and back\n');
    expect((await t.docker(['rmi', `${reg}/bb@${digest}`])).code).toBe(0);
  });

  it('uploads the layer when no other repository here is known to have it', async () => {
    const name = `${reg}/solo/box:v2`;
    expect((await t.docker(['tag', `${reg}/library/busybox`, name])).code).toBe(0);
    // Remove the repository the layer could be mounted from, as far as tsd knows.
    expect((await t.docker(['rmi', `${reg}/library/busybox`])).code).toBe(0);
    const push = await t.docker(['push', name]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/[0-9a-f]{12}: Pushed\n/);
    expect(push.stdout).toMatch(/v2: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    expect(push.stdout).not.toContain('Mounted from');
    // The API's stream of an upload: Preparing, Pushing with Docker's progressDetail and bar, Pushed.
    expect((await t.docker(['tag', name, `${reg}/solo/other:v1`])).code).toBe(0);
    expect((await t.docker(['rmi', name])).code).toBe(0);
    const stream = curl(['-X', 'POST', `http://tsd/v1.41/images/${reg}/solo/other/push?tag=v1`]);
    const messages = stream.body.trim().split('\r\n').map((l) => JSON.parse(l) as { status?: string; id?: string; progressDetail?: { current?: number; total?: number }; progress?: string });
    const statuses = messages.filter((m) => m.id).map((m) => m.status);
    expect(statuses[0]).toBe('Preparing');
    expect(statuses.at(-1)).toBe('Pushed');
    const pushing = messages.filter((m) => m.status === 'Pushing');
    expect(pushing.length).toBeGreaterThan(0);
    expect(pushing.at(-1)!.progressDetail!.current).toBe(pushing.at(-1)!.progressDetail!.total);
    expect(pushing.at(-1)!.progress).toMatch(/^\[=+> *\] +\d+(\.\d+)?[kM]?B\/\d+(\.\d+)?[kM]?B$/);
    expect((await t.docker(['tag', `${reg}/solo/other:v1`, name])).code).toBe(0);
    expect((await t.docker(['rmi', `${reg}/solo/other:v1`])).code).toBe(0);
    expect((await t.docker(['tag', name, `${reg}/library/busybox`])).code).toBe(0);
    expect((await t.docker(['rmi', name])).code).toBe(0);
  });

  it('--all-tags pushes every tag of the repository; push events name each tag', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 1;
    for (const tag of ['a', 'b']) expect((await t.docker(['tag', `${reg}/library/busybox`, `${reg}/multi:${tag}`])).code).toBe(0);
    const all = await t.docker(['push', '--all-tags', `${reg}/multi`]);
    expect(all.stderr).toBe('');
    expect(all.stdout).toMatch(/^a: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    expect(all.stdout).toMatch(/^b: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    const tags = await (await fetch(`http://${reg}/v2/multi/tags/list`)).json();
    expect({ ...tags, tags: [...tags.tags].sort() }).toEqual({ name: 'multi', tags: ['a', 'b'] });
    const events = await t.docker(['events', '--since', String(t0), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'event=push', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
    expect(events.stdout.trim().split('\n').filter((l) => l.includes('/multi:'))).toEqual([`image push ${reg}/multi:a`, `image push ${reg}/multi:b`]);
    for (const tag of ['a', 'b']) expect((await t.docker(['rmi', `${reg}/multi:${tag}`])).code).toBe(0);
  });

  it('an image that is not here: dockerd\'s error after the first line; a registry that is not there is named', async () => {
    const missing = await t.docker(['push', `${reg}/nothere:1`]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(`The push refers to repository [${reg}/nothere]`);
    expect(missing.stderr.trim()).toBe(`An image does not exist locally with the tag: ${reg}/nothere`);
    // A registry that is not there: named, with the errno.
    const nobody = `127.0.0.1:${await freePort()}`;
    expect((await t.docker(['tag', `${reg}/library/busybox`, `${nobody}/gone:1`])).code).toBe(0);
    const down = await t.docker(['push', `${nobody}/gone:1`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain(`push ${nobody}/gone: check blob sha256:`);
    expect(down.stderr).toContain('ECONNREFUSED');
    expect((await t.docker(['rmi', `${nobody}/gone:1`])).code).toBe(0);
  });

  it('pushes through a registry that wants credentials after docker login; a wrong password names the registry and 401', async () => {
    const host = proxy.host;
    const name = `${host}/private/bb:1`;
    expect((await t.docker(['tag', `${reg}/library/busybox`, name])).code).toBe(0);
    const anonymous = await t.docker(['push', name]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('unauthorized');
    expect(anonymous.stderr).toContain(host);
    expect(anonymous.stderr).toContain('HTTP 401');
    // The CLI keeps the password; tsd sees it per push.
    expect((await t.docker(['login', host, '-u', 'alice', '-p', 'secret'])).code).toBe(0);
    const ok = await t.docker(['push', name]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+\n$/);
    expect(proxy.requests.some((r) => r.url.startsWith('/token') && decodeURIComponent(r.url).includes('repository:private/bb:push,pull'))).toBe(true);
    expect(proxy.requests.some((r) => r.method === 'PUT' && r.url === '/v2/private/bb/manifests/1')).toBe(true);
    // A wrong password in the config file the CLI sends from.
    const config = join(t.dir, 'wrongcfg');
    execFileSync('mkdir', ['-p', config]);
    writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('alice:wrong').toString('base64') } } }));
    const wrong = await t.docker(['--config', config, 'push', name]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('unauthorized: incorrect username or password');
    expect(wrong.stderr).toContain(host);
    expect(wrong.stderr).toContain('HTTP 401');
    expect((await t.docker(['logout', host])).code).toBe(0);
    expect((await t.docker(['rmi', name])).code).toBe(0);
  });

  it('docker save -o, rmi, docker load -i, run; save | load through a pipe', async () => {
    const name = `${reg}/library/busybox:latest`;
    const id = (await t.docker(['image', 'inspect', name, '--format', '{{.Id}}'])).stdout.trim();
    expect((await t.docker(['tag', name, 'saved:1'])).code).toBe(0);
    const tar = join(t.dir, 'saved.tar');
    const save = await t.docker(['save', '-o', tar, 'saved:1']);
    expect(save.stderr).toBe('');
    expect(save.code).toBe(0);
    const listing = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n');
    expect(listing).toContain('manifest.json');
    expect(listing).toContain('index.json');
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', tar, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest).toEqual([{ Config: `blobs/sha256/${id.slice(7)}`, RepoTags: ['saved:1'], Layers: [expect.stringMatching(/^blobs\/sha256\/[0-9a-f]{64}$/)] }]);
    expect((await t.docker(['rmi', 'saved:1'])).code).toBe(0);
    const load = await t.docker(['load', '-i', tar]);
    expect(load.stderr).toBe('');
    expect(load.stdout.trim()).toBe('Loaded image: saved:1');
    expect((await t.docker(['image', 'inspect', 'saved:1', '--format', '{{.Id}}'])).stdout.trim()).toBe(id);
    const run = await t.docker(['run', '--rm', 'saved:1', 'echo', 'loaded']);
    expect(run.stdout).toBe('loaded\n');
    expect((await t.docker(['rmi', 'saved:1'])).code).toBe(0);

    // A reader that goes away after 1000 bytes, then a whole save piped into load.
    const piped = await t.underPty(`docker save saved:1 >/dev/null; docker save ${name} | head -c 1000 >/dev/null; docker save ${name} | docker load`);
    expect(piped.stdout).toContain('Error response from daemon: No such image: saved:1');
    expect(piped.stdout).toContain(`Loaded image: ${name}`);
  });

  it('a corrupt or wrong archive is refused naming it, with nothing it brought left behind', async () => {
    const before = files(join(t.dataRoot, 'content', 'blobs')).sort();
    const images = (await t.docker(['images', '-q', '--no-trunc'])).stdout;
    // An OCI layout with a layer that is not here (random bytes), blobs first in the tar.
    const layout = join(t.dir, 'fresh');
    const noise = buildLayer({ noise: randomBytes(400_000).toString('base64') });
    writeLayout(layout, { layers: [noise] });
    const tarOf = (file: string, last: string[]) => execFileSync('tar', ['-cf', file, '-C', layout, 'blobs', 'oci-layout', ...last]);
    // 1. Cut short inside the new layer: no blob, no partial download, no lock is left.
    tarOf(join(t.dir, 'fresh.tar'), ['index.json']);
    const whole = execFileSync('cat', [join(t.dir, 'fresh.tar')]);
    const cut = join(t.dir, 'cut.tar');
    writeFileSync(cut, whole.subarray(0, whole.indexOf(noise.blob.subarray(0, 64)) + 100_000));
    const truncated = await t.docker(['load', '-i', cut]);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr.trim()).toMatch(/^Error response from daemon: import "the request body \(docker load\)": blobs\/sha256\/([0-9a-f]{64}): read sha256:\1: interrupted after 100000 of \d+ bytes \(unexpected end of archive inside an entry \(\d+ bytes missing\)\)$/);
    expect(files(join(t.dataRoot, 'content', 'ingest'))).toEqual([]);
    // 2. Complete blobs, then an index.json that is not an index: the blobs it brought go again.
    writeFileSync(join(layout, 'index.json'), '{"manifests":[{"digest":1}]}');
    tarOf(join(t.dir, 'badindex.tar'), ['index.json']);
    const badIndex = await t.docker(['load', '-i', join(t.dir, 'badindex.tar')]);
    expect(badIndex.stderr.trim()).toBe('Error response from daemon: import "the request body (docker load)": index.json: manifests[0] is not a descriptor (mediaType, sha256 digest, size)');
    // 3. A docker manifest.json that is not docker's.
    const bad = join(t.dir, 'bad');
    execFileSync('mkdir', ['-p', bad]);
    writeFileSync(join(bad, 'manifest.json'), '{"Config": 1}');
    execFileSync('tar', ['-cf', join(t.dir, 'bad.tar'), '-C', bad, 'manifest.json']);
    const wrong = await t.docker(['load', '-i', join(t.dir, 'bad.tar')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('Error response from daemon: import "the request body (docker load)": manifest.json: not an array of images');
    expect(files(join(t.dataRoot, 'content', 'blobs')).sort()).toEqual(before);
    expect(files(join(t.dataRoot, 'content', 'ingest'))).toEqual([]);
    expect((await t.docker(['images', '-q', '--no-trunc'])).stdout).toBe(images);
  });
});
