// Container-escape classes, each with a test that fails on a naive runtime.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, copyFileSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { guardHost } from '../helpers/leftovers.js';
import { tsrunSync, uniqueId } from '../helpers/tsrun.js';
// @ts-expect-error: a plain .mjs build script, no types
import { bunBinary } from '../../scripts/bunBinary.mjs';

let root: string;
const PROBE = '/tmp/tsrun-security-probe';
guardHost((r) => (root = r), { deleteLeftovers: true });
beforeAll(() => {
  execFileSync('gcc', ['-static', '-O2', '-o', PROBE, resolve(import.meta.dirname, '../../spec-tests/probe/probe.c')]);
});

describe('CVE-2024-21626: no runtime fd reaches the container', () => {
  it('process.cwd=/proc/self/fd/N never lands on a host directory, for any N', () => {
    for (let n = 3; n <= 9; n++) {
      const b = makeBundle((c) => {
        c.process!.args = ['sh', '-c', 'pwd; ls -a'];
        c.process!.cwd = `/proc/self/fd/${n}`;
      });
      try {
        const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
        expect(r.stdout, `fd ${n}`).not.toMatch(/state\.json|exec\.fifo|\.lock/);
        if (r.code !== 0) expect(r.stderr).toMatch(/(change to|create) the working directory "\/proc\/self\/fd\/\d+" \(config \.process\.cwd\)/);
      } finally {
        b.cleanup();
      }
    }
  });
  it('the container process has only stdio open (and --preserve-fds)', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "']));
    try {
      // 0-2 and the fd ls opens for /proc/self/fd itself.
      expect(tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]).stdout).toBe('0 1 2 3 ');
    } finally {
      b.cleanup();
    }
  });
});

describe('CVE-2019-5736: the container cannot overwrite the runtime\'s helper', () => {
  it('the init runs from a sealed memfd copy: /proc/<pid>/exe cannot be opened for writing, the helper on disk is untouched', () => {
    const helper = resolve(import.meta.dirname, '../../build/Release/tsrun-init');
    const hash = () => createHash('sha256').update(readFileSync(helper)).digest('hex');
    const before = hash();
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'create', '--bundle', b.dir, id]).code).toBe(0);
      const pid = JSON.parse(tsrunSync(['--root', root, 'state', id]).stdout).pid;
      expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:tsrun-init/);
      let error = '';
      try {
        closeSync(openSync(`/proc/${pid}/exe`, constants.O_WRONLY));
      } catch (e) {
        error = (e as NodeJS.ErrnoException).code ?? '';
      }
      expect(['ETXTBSY', 'EPERM', 'EACCES']).toContain(error);
      expect(hash()).toBe(before);
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });
});

describe('no_new_privs and capabilities', () => {
  it('a setuid-root binary gains nothing under noNewPrivileges, and does without it', () => {
    const euid = (nnp: boolean) => {
      const b = makeBundle((c) => {
        c.process!.args = ['/suid-probe'];
        c.process!.user = { uid: 1000, gid: 1000 };
        c.process!.noNewPrivileges = nnp;
      });
      try {
        copyFileSync(PROBE, join(b.rootfs, 'suid-probe'));
        chmodSync(join(b.rootfs, 'suid-probe'), 0o4755);
        const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
        return JSON.parse(r.stdout).euid;
      } finally {
        b.cleanup();
      }
    };
    expect(euid(true)).toBe(1000);
    expect(euid(false)).toBe(0); // proves the test can fail: setuid works without NNP
  });
});

describe('the JS engine reads nothing from the working directory', () => {
  it('a bunfig.toml preload and a .env beside the bundle run nothing and set nothing', () => {
    // Engines run the runtime in the bundle directory; bun would read bunfig.toml (whose
    // `preload` runs code, as root) and .env files from there unless told not to.
    const b = makeBundle((c) => {
      c.process!.args = ['true'];
    });
    const marker = join(b.dir, 'preload-ran');
    try {
      writeFileSync(join(b.dir, 'evil.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.env.FROM_DOTENV));`);
      writeFileSync(join(b.dir, 'bunfig.toml'), 'preload = ["./evil.js"]\n');
      writeFileSync(join(b.dir, '.env'), 'FROM_DOTENV=loaded\n');
      const id = uniqueId();
      expect(tsrunSync(['--root', root, 'run', id], { cwd: b.dir }).code).toBe(0);
      expect(tsrunSync(['--root', root, 'list'], { cwd: b.dir, env: { ...process.env, TSRUN_NO_FAST: '1' } }).code).toBe(0);
      expect(existsSync(marker)).toBe(false);
      // The check can fail: the same preload runs when bun is started plainly in that directory.
      const bun = bunBinary(join(import.meta.dirname, '../..'));
      if (bun) {
        execFileSync(bun, ['-e', '0'], { cwd: b.dir });
        expect(readFileSync(marker, 'utf8')).toBe('loaded');
      }
    } finally {
      b.cleanup();
    }
  });
});
