import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { overlayChanges } from '../../src/engine/changes.js';
import { addon } from '../../src/native/addon.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const kinds = (c: Array<{ Path: string; Kind: number }>) => c.map((x) => `${'CAD'[x.Kind]} ${x.Path}`);

describe('docker diff from an overlay upper dir (moby\'s rules)', () => {
  it('added, modified, deleted (whiteout, opaque dir), parents of additions; unchanged copied-up dirs skipped; lower whiteouts hide', async () => {
    dir = mkdtempSync(join(tmpdir(), 'changes-'));
    const [lower2, lower1, upper] = ['lower2', 'lower1', 'upper'].map((d) => join(dir, d));
    // The image: lower1 is the nearer layer; it deleted /gone that lower2 has.
    for (const d of ['bin', 'etc', 'opaque', 'deep/a', 'home/user']) mkdirSync(join(lower1, d), { recursive: true });
    writeFileSync(join(lower1, 'bin/ls'), 'ls');
    writeFileSync(join(lower1, 'etc/passwd'), 'root');
    writeFileSync(join(lower1, 'opaque/old'), 'old');
    writeFileSync(join(lower1, 'deep/a/file'), 'f');
    mkdirSync(lower2, { recursive: true });
    writeFileSync(join(lower2, 'gone'), 'g');
    execFileSync('mknod', [join(lower1, 'gone'), 'c', '0', '0']);
    // The container: /bin/ls deleted, /etc/passwd changed (its dir copied up, times kept), /new and /gone added,
    // /opaque replaced, /deep/a/file changed (/deep and /deep/a copied up unchanged), /home/user deleted.
    for (const d of ['bin', 'etc', 'opaque', 'deep/a', 'home']) mkdirSync(join(upper, d), { recursive: true });
    execFileSync('mknod', [join(upper, 'bin/ls'), 'c', '0', '0']);
    execFileSync('mknod', [join(upper, 'home/user'), 'c', '0', '0']);
    writeFileSync(join(upper, 'etc/passwd'), 'root2');
    writeFileSync(join(upper, 'new'), 'n');
    writeFileSync(join(upper, 'gone'), 'again');
    writeFileSync(join(upper, 'opaque/fresh'), 'x');
    addon().lsetxattr(join(upper, 'opaque'), 'trusted.overlay.opaque', Buffer.from('y'));
    writeFileSync(join(upper, 'deep/a/file'), 'f2');
    // Copied up as overlayfs does, with the lower dir's times to the nanosecond.
    for (const d of ['etc', 'deep/a', 'deep', 'home']) execFileSync('touch', ['-r', join(lower1, d), join(upper, d)]);
    expect(kinds(await overlayChanges(upper, [lower1, lower2]))).toEqual([
      'C /bin', 'D /bin/ls', 'C /deep/a/file', 'C /etc/passwd', 'A /gone', 'C /home', 'D /home/user', 'A /new', 'D /opaque', 'A /opaque/fresh',
    ]);
    // No lower layers (an image without any): everything is added.
    expect(kinds(await overlayChanges(join(upper, 'deep'), []))).toEqual(['A /a', 'A /a/file']);
  });
});
