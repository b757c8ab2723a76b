// A failed or interrupted create leaves nothing behind: no state dir, cgroup,
// mount or process; and what a killed create left, delete --force removes.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, TSRUN, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
let bundle: Bundle;
let before: HostSnapshot;
beforeAll(() => {
  root = makeRoot();
  bundle = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
  before = snapshotHost();
});
afterAll(() => {
  bundle.cleanup();
});

describe('failure in the middle of the plan', () => {
  it('a mount the kernel refuses: the error names step, field, syscall, errno; nothing is left', () => {
    const b = makeBundle((c) => c.mounts!.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none' }));
    try {
      const r = tsrunSync(['--root', root, 'create', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tsrun: mount nosuchfs on "\/mnt\/x" \(config \.mounts\[7\]\): mount: ENODEV: No such device\n$/);
      expect(stateDirs(root)).toEqual([]);
      expect(snapshotHost()).toEqual(before);
    } finally {
      b.cleanup();
    }
  });
  it('a failure after the user switch (a missing executable): nothing is left', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['/bin/nope'];
      c.process!.user = { uid: 1000, gid: 1000 };
    });
    try {
      const r = tsrunSync(['--root', root, 'create', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toMatch(/find the executable "\/bin\/nope" \(config \.process\.args\[0\]\): stat: ENOENT/);
      expect(stateDirs(root)).toEqual([]);
      expect(snapshotHost()).toEqual(before);
    } finally {
      b.cleanup();
    }
  });
});

describe('tsrun create killed with SIGKILL at random points', () => {
  it('never leaves anything that delete --force cannot clean', async () => {
    for (let round = 0; round < 12; round++) {
      const id = uniqueId('killed');
      const child = spawn(TSRUN, ['--root', root, 'create', '--bundle', bundle.dir, id], { stdio: 'ignore' });
      // Listen first: a create that finishes before the kill must not hang the test.
      const exited = new Promise((ok) => child.on('exit', ok));
      const delay = (round * 13) % 150;
      await new Promise((ok) => setTimeout(ok, delay));
      child.kill('SIGKILL');
      await exited;
      const r = tsrunSync(['--root', root, 'delete', '--force', id]);
      expect(r.stderr, `round ${round} (${delay} ms)`).toBe('');
      expect(r.code).toBe(0);
    }
    // The helper notices its runtime died (EOF on the sync socket) and exits: give it a moment.
    await new Promise((ok) => setTimeout(ok, 300));
    expect(stateDirs(root)).toEqual([]);
    expect(snapshotHost()).toEqual(before);
  });
});
