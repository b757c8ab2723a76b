// Bad input, generated: mutated config.json documents and argv vectors. tsrun
// never crashes with a stack trace, names what it refuses, and leaves nothing.
// Cases: TSRUN_FUZZ_CASES (default 120 in the suite; `npm run fuzz` runs 3000).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, tsrunSync, uniqueId } from '../helpers/tsrun.js';

const CASES = Number(process.env.TSRUN_FUZZ_CASES ?? 120);
let seed = Number(process.env.TSRUN_FUZZ_SEED ?? 20261122);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

const VALUES: unknown[] = [null, true, false, 0, -1, 1, 4294967296, -2147483649, 1e308, 0.5, '', 'x', '/', '../../etc', '/proc/self/fd/4',
  'a'.repeat(70000), '\u0000', '\ud800', [], [''], [null], {}, { path: '/' }, ['sh', '-c', 'exit 0'], { type: 'pid' }, 'CAP_SYS_ADMIN', 'RLIMIT_NOFILE'];

/** Every [parent, key] pair in the document, for replacing or deleting. */
function slots(doc: any, out: Array<[any, string | number]> = []): Array<[any, string | number]> {
  if (doc && typeof doc === 'object') for (const k of Object.keys(doc)) {
    out.push([doc, Array.isArray(doc) ? Number(k) : k]);
    slots(doc[k], out);
  }
  return out;
}

function mutate(config: unknown): unknown {
  const doc = structuredClone(config) as any;
  for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
    const all = slots(doc);
    const [parent, key] = pick(all);
    const r = rand();
    if (r < 0.2 && !Array.isArray(parent)) delete parent[key];
    else parent[key] = structuredClone(pick(VALUES));
  }
  return doc;
}

let root: string;
let bundle: Bundle;
let before: HostSnapshot;
beforeAll(() => {
  root = makeRoot();
  bundle = makeBundle((c) => (c.process!.args = ['true']));
  before = snapshotHost();
});
afterAll(() => bundle.cleanup());

const crashed = (stderr: string) => /internal error|\n\s+at .*\.js:\d+/.test(stderr);

// Chunks of 20 cases: one long synchronous test would starve vitest's worker RPC.
const CHUNKS = Array.from({ length: Math.ceil(CASES / 20) }, (_, k) => [k * 20, Math.min(CASES, k * 20 + 20)] as const);
let refused = 0;

describe(`generated configs (${CASES} cases)`, () => {
  it.each(CHUNKS)('cases %i to %i are refused with a named field or run cleanly; nothing is left behind', (from, to) => {
    for (let i = from; i < to; i++) {
      const doc = mutate(bundle.config);
      writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(doc));
      const id = uniqueId('fuzz');
      const r = tsrunSync(['--root', root, 'run', '--bundle', bundle.dir, id]);
      expect(crashed(r.stderr), `case ${i}: ${r.stderr}\n${JSON.stringify(doc).slice(0, 400)}`).toBe(false);
      if (r.code !== 0 && r.stderr) {
        refused++;
        expect(r.stderr, `case ${i}`).toMatch(/^tsrun: /);
      }
      tsrunSync(['--root', root, 'delete', '--force', id]);
      expect(stateDirs(root), `case ${i}`).toEqual([]);
    }
  });
  it('refused most and left the host as it was', () => {
    expect(refused).toBeGreaterThan(CASES / 4);
    expect(snapshotHost()).toEqual(before);
  });
});

describe(`generated argv vectors (${CASES} cases)`, () => {
  const TOKENS = ['create', 'start', 'run', 'state', 'list', 'kill', 'delete', 'exec', 'pause', 'resume', 'ps', 'update', 'events', 'spec', 'features',
    '--bundle', '-b', '--root', '--force', '-f', '--all', '--format', 'json', 'table', '--pid-file', '--console-socket', '--preserve-fds', '-1', '99999999999',
    '--log-format', '--detach', '--stats', '--interval', 'x', '../x', '', '--', '-', 'KILL', '99', '--resources', '/nonexistent', '--process', '--tty', '=', '--=x'];
  it.each(CHUNKS)('vectors %i to %i never crash and never touch anything', (from, to) => {
    for (let i = from; i < to; i++) {
      const argv = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(TOKENS)).map((t) => (t === '--bundle' ? `--bundle=/nonexistent-${i}` : t));
      // Never let a generated vector write a config into the working tree.
      if (argv.includes('spec')) continue;
      const r = tsrunSync(['--root', root, ...argv]);
      expect(crashed(r.stderr), `argv ${JSON.stringify(argv)}: ${r.stderr}`).toBe(false);
      expect([0, 1], `argv ${JSON.stringify(argv)}`).toContain(r.code);
    }
    expect(stateDirs(root)).toEqual([]);
  });
});
