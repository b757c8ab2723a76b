// The tar reader on archives GNU tar and Python write (long names, PAX
// headers, xattrs, links).
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar } from '../../src/image/archive/tarReader.js';

async function entries(tar: Buffer, chunk = 7) {
  async function* chunks() {
    for (let i = 0; i < tar.length; i += chunk) yield tar.subarray(i, i + chunk);
  }
  const out: Array<{ path: string; type: string; size: number; linkname: string; body: string; xattrs: string[]; mode: number; uid: number }> = [];
  for await (const e of readTar(chunks())) {
    const parts: Buffer[] = [];
    for await (const b of e.body) parts.push(b);
    out.push({ path: e.path, type: e.type, size: e.size, linkname: e.linkname, body: Buffer.concat(parts).toString(), xattrs: Object.keys(e.xattrs), mode: e.mode, uid: e.uid });
  }
  return out;
}

describe('tar reader', () => {
  it('reads GNU tar long names and links, across tiny chunks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    try {
      const long = 'd'.repeat(120) + '/' + 'f'.repeat(150);
      mkdirSync(join(dir, 'src', 'd'.repeat(120)), { recursive: true });
      writeFileSync(join(dir, 'src', long), 'long content');
      symlinkSync('x'.repeat(130), join(dir, 'src', 'link'));
      writeFileSync(join(dir, 'src', 'empty'), '');
      for (const format of ['gnu', 'posix']) {
        const tar = execFileSync('tar', [`--format=${format}`, '--sort=name', '-C', join(dir, 'src'), '-cf', '-', '.']);
        const got = await entries(tar, 7);
        expect(got.find((e) => e.path.endsWith('f'.repeat(150)))).toMatchObject({ type: 'file', body: 'long content', path: `./${long}` });
        expect(got.find((e) => e.path === './link')).toMatchObject({ type: 'symlink', linkname: 'x'.repeat(130) });
        expect(got.find((e) => e.path === './empty')).toMatchObject({ type: 'file', size: 0, body: '' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads PAX xattrs, hard links and big uids (Python tarfile)', async () => {
    const tar = execFileSync('python3', ['-c', `
import io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo('bin/ping'); data = b'elf'; ti.size = 3; ti.mode = 0o4755; ti.uid = 3000000
    ti.pax_headers = {'SCHILY.xattr.security.capability': 'caps'}
    t.addfile(ti, io.BytesIO(data))
    h = tarfile.TarInfo('bin/ping2'); h.type = tarfile.LNKTYPE; h.linkname = 'bin/ping'; t.addfile(h)
sys.stdout.buffer.write(buf.getvalue())
`]);
    const got = await entries(tar, 100);
    expect(got[0]).toMatchObject({ path: 'bin/ping', body: 'elf', xattrs: ['security.capability'], mode: 0o4755, uid: 3000000 });
    expect(got[1]).toMatchObject({ path: 'bin/ping2', type: 'hardlink', linkname: 'bin/ping' });
  });

  it('refuses a corrupt header', async () => {
    const tar = execFileSync('tar', ['-cf', '-', '-C', '/etc', 'hostname']);
    tar[10] ^= 0x55;
    await expect(entries(tar)).rejects.toThrow(/checksum/);
  });
});
