// User resolution inside a rootfs.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot } from '../../src/common/resolveInRoot.js';
import { resolveUser } from '../../src/image/bundle/userLookup.js';

describe('users from the image', () => {
  const root = mkdtempSync(join(tmpdir(), 'rootfs-'));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'real'));
  writeFileSync(join(root, 'real/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/srv/app:/bin/sh\n');
  symlinkSync('/real/passwd', join(root, 'etc/passwd')); // absolute: resolved inside the rootfs
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1002:\nwheel:x:10:app,other\naudio:x:29:app\n');

  it.each([
    [undefined, { uid: 0, gid: 0 }],
    ['app', { uid: 1001, gid: 1002, additionalGids: [10, 29], home: '/srv/app' }],
    ['1001', { uid: 1001, gid: 1002, additionalGids: [10, 29], home: '/srv/app' }],
    ['app:wheel', { uid: 1001, gid: 10, home: '/srv/app' }],
    ['5000', { uid: 5000, gid: 0 }],
    ['5000:77', { uid: 5000, gid: 77 }],
  ])('%j', (spec, want) => {
    expect(resolveUser(root, spec as string | undefined)).toMatchObject(want);
  });

  it('names what is missing', () => {
    expect(() => resolveUser(root, 'ghost')).toThrow(/no user "ghost"/);
    expect(() => resolveUser(root, 'app:ghosts')).toThrow(/no group "ghosts"/);
  });

  it('never resolves a symlink out of the rootfs', () => {
    symlinkSync('../../../../etc', join(root, 'up'));
    // up → ../../../../etc stops at the rootfs' /, and /etc/passwd → /real/passwd stays inside.
    expect(resolveInRoot(root, '/up/passwd')).toBe(`${root}/real/passwd`);
  });
});
