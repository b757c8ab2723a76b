// tsctl build: a Dockerfile built without the daemon (each RUN in the
// runtime's foreground run, output captured), from a directory with its
// .dockerignore applied, into an image tsctl run runs; the layer cache across
// rebuilds (unchanged, touched, changed); a failing RUN's exit code and
// output with nothing left behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLayer, busyboxFiles, writeLayout } from './buildImage.js';
import { ok, tsctl } from './tsctl.js';

let work: string;
let root: string;
let ctx: string;
const mounts = (under: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(under));

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsctl-build-'));
  root = join(work, 'root');
  const layout = join(work, 'layout');
  writeLayout(layout, { layers: [buildLayer(busyboxFiles())], config: { Entrypoint: null, Cmd: ['sh'] } }, 'docker.io/library/busybox:latest');
  ok(tsctl(root, ['import', layout]));
  ctx = join(work, 'ctx');
  mkdirSync(join(ctx, 'src'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), [
    'FROM busybox',
    'ARG WHO=nobody',
    'WORKDIR /app',
    'COPY src/ ./',
    'RUN echo "built for $WHO" > built.txt && ls /app > listing.txt',
    'CMD ["sh", "-c", "cat /app/main.txt /app/built.txt /app/listing.txt"]',
    '',
  ].join('\n'));
  writeFileSync(join(ctx, 'src', 'main.txt'), 'version 1\n');
  writeFileSync(join(ctx, 'src', 'secret.key'), 'do not send\n');
  writeFileSync(join(ctx, 'src', 'keep.key'), 'an exception\n');
  writeFileSync(join(ctx, '.dockerignore'), 'src/*.key\n!src/keep.key\n');
}, 60_000);

afterAll(() => {
  for (const m of mounts(work).reverse()) {
    try { execFileSync('umount', ['-l', m.split(' ')[4]]); } catch { /* gone */ }
  }
  rmSync(work, { recursive: true, force: true });
});

const build = (...extra: string[]) => tsctl(root, ['build', '-t', 'app:1', '--build-arg', 'WHO=tsctl', ...extra, ctx]);
const run = () => ok(tsctl(root, ['run', '--rm', 'app:1'])).stdout;

describe('tsctl build', () => {
  it('builds a directory into an image tsctl run runs; .dockerignore and its exception applied; the steps stream as docker build\'s', () => {
    const b = build();
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('Step 1/6 : FROM busybox');
    expect(b.stdout).toMatch(/Step 5\/6 : RUN echo "built for \$WHO"/);
    expect(b.stdout).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged app:1\n$/);
    expect(run()).toBe('version 1\nbuilt for tsctl\nbuilt.txt\nkeep.key\nlisting.txt\nmain.txt\n');
    expect(ok(tsctl(root, ['images'])).stdout).toContain('app');
  });

  it('an unchanged rebuild and one after touch come from the cache; a changed file reruns from its COPY on; -q and --iidfile give the ID', () => {
    const same = build();
    expect(same.stdout.match(/Using cache/g)?.length).toBe(5);
    utimesSync(join(ctx, 'src', 'main.txt'), new Date(), new Date(Date.now() + 5000));
    expect(build().stdout.match(/Using cache/g)?.length).toBe(5);
    writeFileSync(join(ctx, 'src', 'main.txt'), 'version 2\n');
    const changed = build();
    expect(changed.stdout.match(/Using cache/g)?.length).toBe(2); // ARG and WORKDIR; COPY and after rerun
    expect(run()).toContain('version 2\n');
    const iid = join(work, 'iid');
    const q = build('-q', '--iidfile', iid);
    expect(q.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(iid, 'utf8')).toBe(q.stdout.trim());
  });

  it('a failing RUN: its output and exit code, exit 1, no step container, mount or temp context left', () => {
    const bad = join(work, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'Dockerfile'), 'FROM busybox\nRUN echo about to fail && exit 3\n');
    const r = tsctl(root, ['build', '-t', 'bad:1', bad]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('about to fail');
    expect(r.stderr).toContain("The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3");
    expect(ok(tsctl(root, ['ps'])).stdout).not.toContain('build-');
    expect(mounts(join(root, 'build'))).toEqual([]);
    expect(readdirSync(join(root, 'build', 'tmp'))).toEqual([]);
    expect(ok(tsctl(root, ['images'])).stdout).not.toContain('bad');
  });
});
