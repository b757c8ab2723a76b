import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInRootAsync } from '../../src/common/resolveInRoot.js';
import { copyUp } from '../../src/volume/copyUp.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'copyup-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('copyUp', () => {
  it('resolves the destination inside the rootfs: an absolute or .. symlink never leaves it', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'real'), { recursive: true });
    symlinkSync('/real', join(rootfs, 'abs'));
    symlinkSync('../../../../real', join(rootfs, 'up'));
    expect(await resolveInRootAsync(rootfs, '/abs/x')).toBe(`${rootfs}/real/x`);
    expect(await resolveInRootAsync(rootfs, '/up')).toBe(`${rootfs}/real`);
    expect(await resolveInRootAsync(rootfs, '/../../etc')).toBe(`${rootfs}/etc`);
  });

  it('copies files, modes and symlinks (as links) into the volume; nothing when the image has no directory there', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'data/sub'), { recursive: true, mode: 0o750 });
    writeFileSync(join(rootfs, 'data/sub/f'), 'x', { mode: 0o600 });
    symlinkSync('/etc/passwd', join(rootfs, 'data/l'));
    const vol = join(dir, 'vol');
    mkdirSync(vol);
    expect(await copyUp(rootfs, '/data', vol)).toBe(true);
    expect(readdirSync(vol).sort()).toEqual(['l', 'sub']);
    expect(readFileSync(join(vol, 'sub/f'), 'utf8')).toBe('x');
    expect(lstatSync(join(vol, 'sub/f')).mode & 0o777).toBe(0o600);
    expect(readlinkSync(join(vol, 'l'))).toBe('/etc/passwd');
    // The volume's root takes the directory's mode, as Docker's copyOwnership.
    expect(lstatSync(vol).mode & 0o777).toBe(0o750);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(await copyUp(rootfs, '/missing', empty)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
  });
});
