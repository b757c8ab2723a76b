// Faults and concurrency: many creates of one id, kill/delete/state racing on
// one container, and a --root on a full filesystem.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle, type Bundle } from '../helpers/bundle.js';
import { snapshotHost, stateDirs, type HostSnapshot } from '../helpers/leftovers.js';
import { makeRoot, tsrunAsync, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
let bundle: Bundle;
let before: HostSnapshot;
beforeAll(() => {
  root = makeRoot();
  bundle = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
  before = snapshotHost();
});
afterAll(() => {
  for (const id of stateDirs(root)) tsrunSync(['--root', root, 'delete', '--force', id]);
  bundle.cleanup();
  expect(snapshotHost()).toEqual(before);
});

describe('concurrency', () => {
  it('20 concurrent creates with one id: exactly one wins, the others fail cleanly', async () => {
    const id = uniqueId('race');
    const rs = await Promise.all(Array.from({ length: 20 }, () => tsrunAsync(['--root', root, 'create', '--bundle', bundle.dir, id])));
    expect(rs.filter((r) => r.code === 0).length).toBe(1);
    for (const r of rs.filter((x) => x.code !== 0)) expect(r.stderr).toMatch(/already exists/);
    expect(JSON.parse(tsrunSync(['--root', root, 'state', id]).stdout).status).toBe('created');
    expect(tsrunSync(['--root', root, 'delete', '--force', id]).code).toBe(0);
  });
  it('kill, delete and state racing on one container never corrupt its state', async () => {
    const id = uniqueId('race');
    expect(tsrunSync(['--root', root, 'run', '-d', '--bundle', bundle.dir, id]).code).toBe(0);
    const verbs = [['state', id], ['kill', id, 'KILL'], ['state', id], ['delete', '--force', id], ['state', id], ['kill', id, 'TERM'], ['delete', '--force', id], ['list', '--format', 'json']];
    const rs = await Promise.all(verbs.map((v) => tsrunAsync(['--root', root, ...v])));
    for (const r of rs) expect(r.stderr).not.toMatch(/internal error|corrupt state|Unexpected end of JSON/);
    // The outcome is a deleted container; a state read during the race printed whole JSON or "does not exist".
    for (const [i, r] of rs.entries()) if (verbs[i][0] === 'state' && r.code === 0) expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(tsrunSync(['--root', root, 'state', id]).code).toBe(1);
  });
});

describe('a full filesystem under --root', () => {
  it('create fails clearly and leaves nothing half-written', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'full-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]).status).toBe(0);
    try {
      mkdirSync(join(mnt, 'root'));
      // Fill it.
      spawnSync('sh', ['-c', `dd if=/dev/zero of=${mnt}/fill bs=1k count=64 2>/dev/null; true`]);
      const r = tsrunSync(['--root', join(mnt, 'root'), 'create', '--bundle', bundle.dir, uniqueId('full')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ENOSPC/);
      expect(readdirSync(join(mnt, 'root'))).toEqual([]);
    } finally {
      spawnSync('umount', [mnt]);
      rmdirSync(mnt);
    }
  });
});

describe('odd inputs', () => {
  it('a --console-socket that is not a socket is refused by name; nothing is left', () => {
    const b = makeBundle((c) => (c.process!.terminal = true));
    try {
      const r = tsrunSync(['--root', root, 'create', '--console-socket', join(b.dir, 'config.json'), '--bundle', b.dir, uniqueId('cs')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/connect to the console socket ".*config\.json": connect: ECONNREFUSED/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
});
