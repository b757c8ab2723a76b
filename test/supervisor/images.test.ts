// The image API of tsd with the real docker CLI: pull progress (and "up to
// date"), a missing tag, images/inspect/history, dangling images and prune,
// rmi with dockerd's conflicts, image events, and docker login + pulls through
// a registry that wants credentials (test/images/proxy.ts in front of the
// private registry). Nothing is left: no container, and once every image is
// removed no blob and no layer snapshot either.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, push, writeLayout } from '../images/buildImage.js';
import { startProxy, type Proxy } from '../images/proxy.js';
import { closeAndCheck, startTsd, type Tsd } from './tsd.js';

let t: Tsd;
let proxy: Proxy;
let reg: string;
const base = buildLayer(busyboxFiles());

/** Pushes an image of busybox plus one file to the private registry. */
function pushImage(dir: string, dest: string, file: string, extra: { labels?: Record<string, string>; history?: boolean } = {}): void {
  const layers = [base, buildLayer({ 'etc/which': `${file}\n` })];
  writeLayout(join(t.dir, dir), {
    layers,
    config: extra.labels ? { Labels: extra.labels } : {},
    history: extra.history ? [
      { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:busybox in / ' },
      { created: '2026-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created: '2026-01-01T00:00:02Z', created_by: `/bin/sh -c echo ${file} > /etc/which`, comment: 'the app' },
    ] : undefined,
  });
  push(join(t.dir, dir), dest);
}

/** Every file under dir (a content store's blobs). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => (statSync(join(dir, e)).isDirectory() ? files(join(dir, e)) : [join(dir, e)]));
}

/** The snapshotter's snapshots (one directory each), of whichever driver tsd chose. */
function snapshots(): string[] {
  return ['overlay', 'copy'].flatMap((driver) => {
    const dir = join(t.dataRoot, 'snapshots', driver, 'snapshots');
    return existsSync(dir) ? readdirSync(dir) : [];
  });
}

/** The daemon's answer to a request made with curl (for what the CLI cannot send). */
function curl(args: string[]): { status: number; body: string } {
  const out = execFileSync('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', t.socket, ...args], { encoding: 'utf8' });
  const nl = out.lastIndexOf('\n');
  return { status: Number(out.slice(nl + 1)), body: out.slice(0, nl) };
}

beforeAll(async () => {
  t = await startTsd();
  reg = t.registry.host;
  pushImage('app1', `${reg}/app:v1`, 'v1', { labels: { tier: 'test' }, history: true });
  pushImage('moving1', `${reg}/moving:latest`, 'moving-1');
  pushImage('private', `${reg}/private/box:latest`, 'private');
  proxy = await startProxy({ upstream: reg, auth: 'bearer', user: 'alice', password: 'secret' });
});

afterAll(async () => {
  await proxy?.close();
  expect(await closeAndCheck(t)).toEqual([]);
});

describe('tsd images with the docker CLI', () => {
  const t0 = Math.floor(Date.now() / 1000) - 1;

  it('pulls with Docker\'s progress, then says it is up to date; a missing tag is Docker\'s 404', async () => {
    const pull = await t.docker(['pull', `${reg}/app:v1`]);
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    expect(pull.stdout).toContain('v1: Pulling from app\n');
    expect(pull.stdout).toMatch(/[0-9a-f]{12}: Pulling fs layer/);
    expect(pull.stdout).toMatch(/([0-9a-f]{12}): Verifying Checksum\n\1: Download complete\n\1: Pull complete\n/);
    expect(pull.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}\n/);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${reg}/app:v1\n`);
    // The CLI draws Downloading bars on a terminal only; the stream carries them with Docker's progressDetail.
    expect((await t.docker(['rmi', `${reg}/app:v1`])).code).toBe(0);
    const stream = curl(['-X', 'POST', `http://tsd/v1.41/images/create?fromImage=${reg}/app&tag=v1`]);
    expect(stream.status).toBe(200);
    const messages = stream.body.trim().split('\r\n').map((l) => JSON.parse(l) as { status: string; id?: string; progressDetail?: { current?: number; total?: number }; progress?: string });
    const downloading = messages.filter((m) => m.status === 'Downloading');
    expect(downloading.length).toBeGreaterThan(0);
    for (const m of downloading) {
      expect(m.id).toMatch(/^[0-9a-f]{12}$/);
      expect(m.progressDetail!.current).toBeGreaterThan(0);
      expect(m.progressDetail!.total).toBeGreaterThanOrEqual(m.progressDetail!.current!);
      expect(m.progress).toMatch(/^\[=*> *\] +\d+(\.\d+)?[kM]?B\/\d+(\.\d+)?[kM]?B$/);
    }
    expect(messages[0]).toEqual({ status: 'Pulling from app', id: 'v1' });
    expect(messages.at(-1)).toEqual({ status: `Status: Downloaded newer image for ${reg}/app:v1` });
    const again = await t.docker(['pull', `${reg}/app:v1`]);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toMatch(/Pulling fs layer|Downloading|Pull complete/);
    expect(again.stdout).toContain(`Status: Image is up to date for ${reg}/app:v1\n`);
    const missing = await t.docker(['pull', `${reg}/app:nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`Error response from daemon: manifest for ${reg}/app:nope not found: manifest unknown: manifest unknown`);
    const status = curl(['-X', 'POST', `http://tsd/v1.41/images/create?fromImage=${reg}/app&tag=nope`]);
    expect(status.status).toBe(404);
  });

  it('lists with docker\'s columns, inspects and shows the history', async () => {
    const id = (await t.docker(['image', 'inspect', `${reg}/app:v1`, '--format', '{{.Id}}'])).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const images = await t.docker(['images']);
    const lines = images.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(lines.find((l) => l.startsWith(`${reg}/app `))).toMatch(new RegExp(`^${reg}/app\\s+v1\\s+${id.slice(7, 19)}\\s+\\S.* ago\\s+\\d+(\\.\\d+)?[kM]B$`));
    const inspect = JSON.parse((await t.docker(['image', 'inspect', `${reg}/app:v1`])).stdout)[0];
    expect(inspect.RepoTags).toEqual([`${reg}/app:v1`]);
    expect(inspect.RepoDigests).toHaveLength(1);
    expect(inspect.RepoDigests[0]).toMatch(new RegExp(`^${reg}/app@sha256:[0-9a-f]{64}$`));
    expect(inspect.Config.Labels).toEqual({ tier: 'test' });
    expect(inspect.Config.Cmd).toEqual(['sh']);
    expect(inspect.RootFS.Layers).toHaveLength(2);
    expect(inspect.Size).toBeGreaterThan(100_000);
    // Sizes as dockerd counts them: the unpacked bytes of each layer (/etc/which holds 3).
    const history = await t.docker(['image', 'history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}|{{.Size}}', `${reg}/app:v1`]);
    expect(history.stderr).toBe('');
    const rows = history.stdout.trim().split('\n');
    expect(rows.slice(0, 2)).toEqual([
      `${id}|/bin/sh -c echo v1 > /etc/which|the app|3B`,
      '<missing>|/bin/sh -c #(nop)  CMD ["sh"]||0B',
    ]);
    expect(rows[2]).toMatch(/^<missing>\|\/bin\/sh -c #\(nop\) ADD file:busybox in \/ \|\|\d+(\.\d+)?[kM]B$/);
    expect((await t.docker(['image', 'history', 'nosuch:image'])).stderr).toContain('No such image: nosuch:image');
  });

  it('keeps an image a pull moved its name away from as dangling; prune removes it', async () => {
    expect((await t.docker(['pull', '-q', `${reg}/moving`])).code).toBe(0);
    const old = (await t.docker(['image', 'inspect', `${reg}/moving`, '--format', '{{.Id}}'])).stdout.trim();
    pushImage('moving2', `${reg}/moving:latest`, 'moving-2');
    const pull = await t.docker(['pull', `${reg}/moving`]);
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${reg}/moving:latest`);
    // The shared busybox layer is here already.
    expect(pull.stdout).toMatch(/[0-9a-f]{12}: Already exists/);
    const dangling = await t.docker(['images', '--filter', 'dangling=true', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
    expect(dangling.stdout.trim()).toBe(`${reg}/moving <none> ${old.slice(7, 19)}`);
    const tagged = await t.docker(['images', '--filter', 'dangling=false', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(tagged.stdout.trim().split('\n').sort()).toEqual([`${reg}/app:v1`, `${reg}/moving:latest`]);
    const prune = await t.docker(['image', 'prune', '-f']);
    expect(prune.stderr).toBe('');
    expect(prune.stdout).toMatch(new RegExp(`^Deleted Images:\nuntagged: ${reg}/moving@sha256:[0-9a-f]{64}\ndeleted: ${old}\n`));
    expect(prune.stdout).toMatch(/Total reclaimed space: \d/);
    expect((await t.docker(['images', '--filter', 'dangling=true', '-q'])).stdout).toBe('');
    expect((await t.docker(['image', 'inspect', old])).code).toBe(1);
    const none = await t.docker(['image', 'prune', '-f']);
    expect(none.stdout.trim()).toBe('Total reclaimed space: 0B');
    const bad = await t.docker(['image', 'prune', '-f', '--filter', 'foo=bar']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe("Error response from daemon: Invalid filter 'foo'");
    const until = await t.docker(['image', 'prune', '-f', '--filter', 'until=soon']);
    expect(until.stderr.trim()).toBe('Error response from daemon: failed to parse value as time or duration: "soon"');
    const list = await t.docker(['images', '--filter', 'dangling=maybe']);
    expect(list.stderr.trim()).toBe("Error response from daemon: Invalid filter 'dangling=[maybe]'");
  });

  it('rmi: dockerd\'s conflicts for stopped and running containers; -f untags only; tag/untag/delete events', async () => {
    const name = `${reg}/app:v1`;
    const id = (await t.docker(['image', 'inspect', name, '--format', '{{.Id}}'])).stdout.trim();
    expect((await t.docker(['tag', name, 'mine:1'])).code).toBe(0);
    expect((await t.docker(['rmi', 'mine:1'])).stdout.trim()).toBe('Untagged: mine:1');
    const stopped = (await t.docker(['create', name, 'true'])).stdout.trim();
    const byId = await t.docker(['rmi', id.slice(7, 19)]);
    expect(byId.stderr.trim()).toBe(`Error response from daemon: conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by stopped container ${stopped.slice(0, 12)}`);
    const byName = await t.docker(['rmi', name]);
    expect(byName.stderr.trim()).toBe(`Error response from daemon: conflict: unable to remove repository reference "${name}" (must force) - container ${stopped.slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`);
    expect((await t.docker(['rm', stopped])).code).toBe(0);
    const running = (await t.docker(['run', '-d', name, 'sleep', '60'])).stdout.trim();
    const forcedId = await t.docker(['rmi', '-f', id]);
    expect(forcedId.stderr.trim()).toBe(`Error response from daemon: conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image is being used by running container ${running.slice(0, 12)}`);
    const forced = await t.docker(['rmi', '-f', name]);
    expect(forced.stderr).toBe('');
    // The repository's last tag takes the pull's digest reference with it.
    expect(forced.stdout).toMatch(new RegExp(`^Untagged: ${name}\nUntagged: ${reg}/app@sha256:[0-9a-f]{64}\n$`));
    // dockerd keeps it for the container, with no reference: <none>:<none>.
    expect((await t.docker(['image', 'inspect', id, '--format', '{{json .RepoTags}} {{json .RepoDigests}}'])).stdout.trim()).toBe('[] []');
    expect((await t.docker(['images', '--filter', 'dangling=true', '--no-trunc', '--format', '{{.Repository}} {{.Tag}} {{.ID}}'])).stdout.trim()).toBe(`<none> <none> ${id}`);
    expect((await t.docker(['rm', '-f', running])).code).toBe(0);
    const rmi = await t.docker(['rmi', '--no-prune', id]);
    expect(rmi.stderr).toBe('');
    expect(rmi.stdout).toMatch(new RegExp(`^Deleted: ${id}\nDeleted: sha256:[0-9a-f]{64}\n$`));
    expect((await t.docker(['image', 'inspect', id])).code).toBe(1);
    const events = await t.docker(['events', '--since', String(t0), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}']);
    const lines = events.stdout.trim().split('\n');
    expect(lines).toContain(`image pull ${reg}/app:v1 ${reg}/app`);
    expect(lines).toContain(`image tag ${id} mine:1`);
    expect(lines).toContain(`image untag ${id} ${id}`);
    expect(lines).toContain(`image delete ${id} ${id}`);
    expect(lines.some((l) => l.startsWith('image prune '))).toBe(true);
    expect(lines.every((l) => l.startsWith('image '))).toBe(true);
    const pulled = await t.docker(['events', '--since', String(t0), '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=pull', '--format', '{{json .Actor.Attributes}}']);
    expect(pulled.stdout.split('\n')).toContain(JSON.stringify({ name: `${reg}/app`, tier: 'test' }));
    const missing = await t.docker(['rmi', 'nosuch:image']);
    expect(missing.stderr.trim()).toBe('Error response from daemon: No such image: nosuch:image');
  });

  it('docker login against tsd, then pulls with the credentials; without them or with a wrong password Docker\'s errors', async () => {
    const host = proxy.host;
    const anonymous = await t.docker(['pull', `${host}/private/box`]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr.trim()).toBe(`Error response from daemon: Head "http://${host}/v2/private/box/manifests/latest": unauthorized: incorrect username or password`);
    const wrong = await t.docker(['login', host, '-u', 'alice', '-p', 'wrong']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`Error response from daemon: Get "http://${host}/v2/": unauthorized: incorrect username or password`);
    const login = await t.docker(['login', host, '-u', 'alice', '-p', 'secret']);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('Login Succeeded');
    const pull = await t.docker(['pull', `${host}/private/box`]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${host}/private/box:latest`);
    // The registry was asked with the token the credentials got.
    expect(proxy.requests.some((r) => r.url.startsWith('/token') && r.authorization === `Basic ${Buffer.from('alice:secret').toString('base64')}`)).toBe(true);
    expect((await t.docker(['logout', host])).code).toBe(0);
    expect((await t.docker(['rmi', `${host}/private/box`])).code).toBe(0);
  });

  it('a bad X-Registry-Auth header or /auth body is a 400 naming it', async () => {
    const url = `http://tsd/v1.41/images/create?fromImage=${reg}/private/box&tag=latest`;
    const notBase64 = curl(['-X', 'POST', '-H', 'X-Registry-Auth: !!not base64!!', url]);
    expect(notBase64.status).toBe(400);
    expect(JSON.parse(notBase64.body).message).toMatch(/^invalid X-Registry-Auth header: not base64url/);
    const notJson = curl(['-X', 'POST', '-H', `X-Registry-Auth: ${Buffer.from('user:pass').toString('base64url')}`, url]);
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).message).toMatch(/^invalid X-Registry-Auth header: not JSON/);
    const wrongType = curl(['-X', 'POST', '-H', `X-Registry-Auth: ${Buffer.from('{"username":1}').toString('base64url')}`, url]);
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.body).message).toBe('invalid X-Registry-Auth header: json: cannot unmarshal number into Go struct field types.AuthConfig.username of type string');
    const body = curl(['-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"username":"a","password":false,"serveraddress":"x"}', 'http://tsd/v1.41/auth']);
    expect(body.status).toBe(400);
    expect(JSON.parse(body.body).message).toBe('json: cannot unmarshal bool into Go struct field types.AuthConfig.password of type string');
  });

  it('rmi -f of an image a stopped container uses deletes it; its layers go with the container', async () => {
    const name = `${reg}/moving:latest`;
    const id = (await t.docker(['image', 'inspect', name, '--format', '{{.Id}}'])).stdout.trim();
    const user = (await t.docker(['create', name, 'true'])).stdout.trim();
    const withContainer = snapshots().length;
    const forced = await t.docker(['rmi', '-f', name]);
    expect(forced.stderr).toBe('');
    // dockerd: the image goes; its layers stay for the container (no Deleted layer line).
    expect(forced.stdout).toMatch(new RegExp(`^Untagged: ${name}\nUntagged: ${reg}/moving@sha256:[0-9a-f]{64}\nDeleted: ${id}\n$`));
    expect(snapshots().length).toBe(withContainer);
    expect((await t.docker(['rm', user])).code).toBe(0);
    // Its writable layer and the image's two layers (no other image is here now).
    expect(withContainer).toBe(3);
    expect(snapshots()).toEqual([]);
  });

  it('prune -a with a label filter, then everything: no blob or layer of the removed images is left', async () => {
    expect((await t.docker(['pull', '-q', `${reg}/app:v1`])).code).toBe(0);
    expect((await t.docker(['pull', '-q', `${reg}/private/box`])).code).toBe(0);
    const used = (await t.docker(['create', `${reg}/private/box`, 'true'])).stdout.trim();
    const labelled = await t.docker(['image', 'prune', '-a', '-f', '--filter', 'label=tier=test']);
    expect(labelled.stdout).toMatch(new RegExp(`^Deleted Images:\nuntagged: ${reg}/app:v1\nuntagged: ${reg}/app@sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\ndeleted: sha256:[0-9a-f]{64}\n`));
    // The image a container uses is never pruned.
    const all = await t.docker(['image', 'prune', '-a', '-f', '--filter', 'until=1h']);
    expect(all.stdout.trim()).toBe('Total reclaimed space: 0B');
    expect((await t.docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.trim()).toBe(`${reg}/private/box:latest`);
    expect((await t.docker(['rm', used])).code).toBe(0);
    expect((await t.docker(['image', 'prune', '-a', '-f'])).stdout).toContain(`untagged: ${reg}/private/box:latest`);
    expect((await t.docker(['images', '-q'])).stdout).toBe('');
    expect(files(join(t.dataRoot, 'content'))).toEqual([]);
    // No layer snapshot and no image record (hidden ones included) either; the stores' own directories stay.
    expect(snapshots()).toEqual([]);
    expect(readdirSync(join(t.dataRoot, 'images'))).toEqual([]);
  });
});
