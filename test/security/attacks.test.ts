// Escapes and host writes found by attacking tsrun (issue 14), each reproduced
// as an attacker would and checked to be closed. Each test was run against the
// build before the fix and failed there.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { startConsoleReceiver } from '../helpers/consoleReceiver.js';
import { guardHost, stateDirs } from '../helpers/leftovers.js';
import { TSRUN, tsrunSync, uniqueId } from '../helpers/tsrun.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: true });

const racers: ChildProcess[] = [];
/** Alive and not a zombie (kill(pid, 0) succeeds on a zombie the test has not reaped yet). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return false;
  }
}

function stopRacers(): void {
  for (const r of racers.splice(0)) r.kill('SIGKILL');
  spawnSync('sleep', ['0.2']); // let them go before their directory is removed
}
afterEach(stopRacers);

const RACER = join(tmpdir(), 'tsrun-racer');
beforeAll(() => {
  execFileSync('gcc', ['-O2', '-o', RACER, resolve(import.meta.dirname, '../helpers/racer.c')]);
});

/** A host process that keeps swapping `names` in `dir` for symlinks to `target`, as a neighbour sharing the directory would. */
function startRacer(dir: string, names: string[], target: string, intervalUs = 0): void {
  racers.push(spawn(RACER, [dir, target, String(intervalUs), ...names], { stdio: 'ignore' }));
}

describe('a created container cannot be entered through its init (shared pid namespace)', () => {
  it('another container with the same uid and caps in the host pid namespace reaches none of the init\'s fds, nor its memory', () => {
    const victim = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'create', '--bundle', victim.dir, id]).code).toBe(0);
      const pid = JSON.parse(tsrunSync(['--root', root, 'state', id]).stdout).pid as number;
      // Seen from the host: no fd of the created init is a directory of the host (the state dir held it before).
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        expect(existsSync(`/proc/${pid}/fd/${fd}/state.json`), `fd ${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`).toBe(false);
        expect(readlinkSync(`/proc/${pid}/fd/${fd}`)).not.toBe(join(root, id));
      }
      // The attacker: same uid (0), same capabilities and no_new_privs as the init, in the host pid namespace.
      const attacker = makeBundle((c) => {
        c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'pid');
        c.process!.args = ['sh', '-c', `
          for f in /proc/${pid}/fd/*; do
            readlink "$f" >/dev/null 2>&1 && echo "LINK $f"
            [ -e "$f/state.json" ] && echo "ESCAPED $f" && echo pwned > "$f/../../PWNED-${id}"
          done
          (echo x > /proc/${pid}/mem) 2>/dev/null && echo MEMWRITE
          echo done`];
      });
      try {
        const r = tsrunSync(['--root', root, 'run', '--bundle', attacker.dir, uniqueId()]);
        expect(r.stdout).toContain('done');
        expect(r.stdout).not.toMatch(/ESCAPED|LINK|MEMWRITE/);
        expect(existsSync(join(root, `PWNED-${id}`))).toBe(false);
      } finally {
        attacker.cleanup();
        rmSync(join(root, `PWNED-${id}`), { force: true });
      }
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      victim.cleanup();
    }
  });
});

/** A bundle whose /dev is a host directory shared with a racing neighbour. */
function sharedDevBundle(dev: string, args: string[]) {
  return makeBundle((c) => {
    c.process!.args = args;
    c.mounts = c.mounts!.map((m) => (m.destination === '/dev' ? { destination: '/dev', type: 'bind', source: dev, options: ['rbind', 'rw'] } : m));
  });
}

describe('CVE-2025-31133 class: a shared /dev whose names are swapped for symlinks', () => {
  it('creating default devices never chmods the file a swapped-in symlink names (a host file)', () => {
    const dev = mkdtempSync(join(tmpdir(), 'tsrun-shared-dev-'));
    const victimFile = join(mkdtempSync(join(tmpdir(), 'tsrun-victim-')), 'secret');
    writeFileSync(victimFile, 'secret\n', { mode: 0o600 });
    const b = sharedDevBundle(dev, ['true']);
    startRacer(dev, ['null', 'zero', 'full', 'random', 'urandom', 'tty'], victimFile);
    try {
      for (let i = 0; i < 40; i++) {
        tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
        expect(statSync(victimFile).mode & 0o7777, `attempt ${i}`).toBe(0o600);
      }
    } finally {
      stopRacers();
      b.cleanup();
      rmSync(dev, { recursive: true, force: true });
      rmSync(resolve(victimFile, '..'), { recursive: true, force: true });
    }
  });

  it('a masked path is never bound from what a swapped /dev/null symlink names (a host sysctl)', () => {
    const dev = mkdtempSync(join(tmpdir(), 'tsrun-shared-dev-'));
    // /proc/timer_list is masked by default: the container must read nothing from it, never the sysctl's "0"/"1".
    const b = sharedDevBundle(dev, ['sh', '-c', 'head -c 8 /proc/timer_list; echo "|"']);
    // Slowly: creating /dev/null must mostly get through, the swap must come before the mask.
    startRacer(dev, ['null'], '/proc/sys/kernel/core_uses_pid', 2000);
    try {
      for (let i = 0; i < 40; i++) {
        const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
        if (r.code !== 0) continue; // refused: the null device was not what it must be
        expect(r.stdout, `attempt ${i}`).toBe('|\n');
      }
    } finally {
      stopRacers();
      b.cleanup();
      rmSync(dev, { recursive: true, force: true });
    }
  });
});

describe('mounts inside /proc, and what the init reaches through /proc', () => {
  const refused = (edit: Parameters<typeof makeBundle>[0], message: RegExp, prepare?: (rootfs: string) => void) => {
    const b = makeBundle(edit);
    prepare?.(b.rootfs);
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  };

  it('refuses a bind over /proc/sys/kernel (it redirected linux.sysctl into a host file) and a mount on /proc/self/fd', () => {
    const host = mkdtempSync(join(tmpdir(), 'tsrun-fake-sysctl-'));
    writeFileSync(join(host, 'domainname'), 'untouched\n');
    try {
      refused((c) => {
        c.mounts!.push({ destination: '/proc/sys/kernel', type: 'bind', source: host, options: ['rbind', 'rw'] });
        c.linux!.sysctl = { 'kernel.domainname': 'pwned' };
      }, /\(config \.mounts\[\d+\]\.destination\): mounts inside \/proc are refused, except on \/proc\/cpuinfo/);
      expect(readFileSync(join(host, 'domainname'), 'utf8')).toBe('untouched\n');
      refused((c) => c.mounts!.push({ destination: '/proc/self/fd', type: 'tmpfs', source: 'tmpfs' }), /mounts inside \/proc are refused/);
      refused((c) => c.mounts!.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }), /only a mount of type proc may be mounted on \/proc/);
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  it('refuses a destination that reaches /proc through a symlink in the image', () => {
    refused((c) => c.mounts!.push({ destination: '/innocent/kernel', type: 'tmpfs', source: 'tmpfs' }),
      /the mount destination is on \/proc/, (rootfs) => symlinkSync('/proc/sys', join(rootfs, 'innocent')));
  }, 20_000);

  it('still allows the files lxcfs replaces (/proc/meminfo)', () => {
    const src = join(mkdtempSync(join(tmpdir(), 'tsrun-meminfo-')), 'meminfo');
    writeFileSync(src, 'MemTotal: 42 kB\n');
    const b = makeBundle((c) => {
      c.process!.args = ['cat', '/proc/meminfo'];
      c.mounts!.push({ destination: '/proc/meminfo', type: 'bind', source: src, options: ['bind', 'ro'] });
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('MemTotal: 42 kB\n');
    } finally {
      b.cleanup();
      rmSync(resolve(src, '..'), { recursive: true, force: true });
    }
  });
});

describe('only the caller\'s fds reach the container', () => {
  it('an over-counted --preserve-fds is refused instead of handing over the runtime\'s own fds', () => {
    const b = makeBundle((c) => (c.process!.args = ['ls', '-l', '/proc/self/fd/']));
    const file = join(b.dir, 'passed.txt');
    writeFileSync(file, 'x');
    const fd3 = openSync(file, 'r');
    try {
      const r = spawnSync(TSRUN, ['--root', root, 'run', '--preserve-fds', '8', '--bundle', b.dir, uniqueId()], {
        stdio: ['ignore', 'pipe', 'pipe', fd3], encoding: 'utf8',
      });
      expect(r.stdout).not.toMatch(/socket:|memfd:|cgroup|anon_inode/);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--preserve-fds 8 asks for fds 3\.\.10, but fd 4 was not passed to tsrun by its caller/);
      expect(stateDirs(root)).toEqual([]);
      // The one the caller did pass still goes through.
      const ok = spawnSync(TSRUN, ['--root', root, 'run', '--preserve-fds', '1', '--bundle', b.dir, uniqueId()], {
        stdio: ['ignore', 'pipe', 'pipe', fd3], encoding: 'utf8',
      });
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain(`3 -> ${file}`);
    } finally {
      closeSync(fd3);
      b.cleanup();
    }
  });

  it('LISTEN_FDS is ignored when LISTEN_PID names another process (it was meant for someone else)', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'echo "fds=${LISTEN_FDS:-none}"; ls /proc/self/fd | tr "\\n" " "']));
    const fd3 = openSync(join(b.dir, 'config.json'), 'r');
    try {
      const r = spawnSync(TSRUN, ['--root', root, 'run', '--bundle', b.dir, uniqueId()], {
        stdio: ['ignore', 'pipe', 'pipe', fd3], encoding: 'utf8', env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: '1' },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('fds=none\n0 1 2 3 '); // 3 is ls's own directory fd
    } finally {
      closeSync(fd3);
      b.cleanup();
    }
  });
});

describe('/dev/console (CVE-2025-52565 class)', () => {
  it('is bound from the pty itself onto a target that is never a symlink: planted /dev/pts/N and /dev/console symlinks lead nowhere', async () => {
    const b = makeBundle((c) => {
      c.process!.terminal = true;
      c.process!.args = ['sh', '-c', '[ -L /dev/console ] && echo LINK; [ -c /dev/console ] && echo CHAR; cat /etc/console-target'];
      // The image's own /dev (no tmpfs over it), devpts elsewhere and /dev/ptmx pointing there:
      // the old code bound "/dev/pts/N", a name the image controls.
      const pts = c.mounts!.find((m) => m.destination === '/dev/pts')!;
      c.mounts = c.mounts!.filter((m) => m.destination !== '/dev' && m.destination !== '/dev/shm' && m.destination !== '/dev/mqueue');
      pts.destination = '/dev/realpts';
    });
    const dev = join(b.rootfs, 'dev');
    mkdirSync(join(dev, 'pts'), { recursive: true });
    for (let n = 0; n < 64; n++) symlinkSync('/etc/pts-target', join(dev, 'pts', String(n)));
    symlinkSync('realpts/ptmx', join(dev, 'ptmx'));
    symlinkSync('/etc/console-target', join(dev, 'console'));
    writeFileSync(join(b.rootfs, 'etc/pts-target'), 'planted\n');
    writeFileSync(join(b.rootfs, 'etc/console-target'), 'original\n');
    const sock = join(b.dir, 'console.sock');
    const receiver = await startConsoleReceiver(sock, '');
    const id = uniqueId();
    try {
      const c = tsrunSync(['--root', root, 'create', '--console-socket', sock, '--bundle', b.dir, id]);
      expect(c.stderr).toBe('');
      expect(tsrunSync(['--root', root, 'start', id]).code).toBe(0);
      const lines = (await receiver.result).output.split(/\r?\n/);
      expect(lines).not.toContain('LINK');
      expect(lines).toContain('CHAR');
      expect(lines).toContain('original');
      expect(readFileSync(join(b.rootfs, 'etc/console-target'), 'utf8')).toBe('original\n');
    } finally {
      receiver.process.kill();
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  }, 30_000);
});

describe('large annotations (Kubernetes allows 256 KiB)', () => {
  it('reach the createContainer hook whole, and create does not fail with EMSGSIZE', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tsrun-hook-out-')), 'state.json');
    const big = 'a'.repeat(240 * 1024);
    const b = makeBundle((c) => {
      c.process!.args = ['true'];
      c.annotations = { 'example.com/big': big };
      c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}`] }] };
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8')).annotations['example.com/big']).toBe(big);
    } finally {
      b.cleanup();
      rmSync(resolve(out, '..'), { recursive: true, force: true });
    }
  });
});

describe('process.apparmorProfile', () => {
  const enabled = (() => {
    try {
      return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
    } catch {
      return false;
    }
  })();
  it.skipIf(enabled)('is ignored with a warning where AppArmor is off', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['true'];
      c.process!.apparmorProfile = 'unconfined';
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/warning: process\.apparmorProfile is ignored: AppArmor is not enabled on this host/);
    } finally {
      b.cleanup();
    }
  });
  it.skipIf(!enabled)('is applied where AppArmor is on: the process runs under it', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['cat', '/proc/self/attr/current'];
      c.process!.apparmorProfile = 'unconfined';
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('unconfined');
    } finally {
      b.cleanup();
    }
  });
});

describe('a cgroupsPath naming a cgroup that already has processes', () => {
  it('is refused at create, and nothing in it is killed', () => {
    const dir = `/sys/fs/cgroup/pids/tsrun-occupied-${process.pid}`;
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const cg = v2 ? `/sys/fs/cgroup/tsrun-occupied-${process.pid}` : dir;
    mkdirSync(cg, { recursive: true });
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(cg, 'cgroup.procs'), String(sleeper.pid));
      const b = makeBundle((c) => {
        c.process!.args = ['true'];
        c.linux!.cgroupsPath = `/tsrun-occupied-${process.pid}`;
      });
      try {
        const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/check the container's cgroup ".*tsrun-occupied-\d+" \(config \.linux\.cgroupsPath\): EBUSY: the cgroup already holds 1 process/);
        expect(stateDirs(root)).toEqual([]);
        expect(running(sleeper.pid!)).toBe(true);
        expect(readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim()).toBe(String(sleeper.pid));
      } finally {
        b.cleanup();
      }
    } finally {
      sleeper.kill('SIGKILL');
      spawnSync('sleep', ['0.1']);
      for (const d of v2 ? [cg] : readdirSync('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}/tsrun-occupied-${process.pid}`))
        if (existsSync(d)) spawnSync('rmdir', [d]);
      expect(existsSync(cg)).toBe(false);
    }
  });
});

describe('--pid-file never writes through a symlink', () => {
  it('replaces a symlink at the pid-file path instead of writing into the file it names (create and exec)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-pidfile-'));
    const precious = join(dir, 'precious');
    writeFileSync(precious, 'root-owned content\n');
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      const pidFile = join(dir, 'init.pid');
      symlinkSync(precious, pidFile);
      // A user who can write the directory also plants the temp names a predictable writer would use.
      const next = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
      for (let n = next + 1; n < next + 400; n++) {
        symlinkSync(precious, `${pidFile}.tmp-${n}`);
        symlinkSync(precious, join(dir, `exec.pid.tmp-${n}`));
      }
      expect(tsrunSync(['--root', root, 'create', '--pid-file', pidFile, '--bundle', b.dir, id]).code).toBe(0);
      expect(readFileSync(precious, 'utf8')).toBe('root-owned content\n');
      const pid = JSON.parse(tsrunSync(['--root', root, 'state', id]).stdout).pid;
      expect(lstatSync(pidFile).isSymbolicLink()).toBe(false);
      expect(readFileSync(pidFile, 'utf8')).toBe(String(pid));
      expect(tsrunSync(['--root', root, 'start', id]).code).toBe(0);
      const execPid = join(dir, 'exec.pid');
      symlinkSync(precious, execPid);
      expect(tsrunSync(['--root', root, 'exec', '--detach', '--pid-file', execPid, id, 'sleep', '1']).code).toBe(0);
      expect(readFileSync(precious, 'utf8')).toBe('root-owned content\n');
      expect(readFileSync(execPid, 'utf8')).toMatch(/^\d+$/);
      expect(readdirSync(dir).filter((n) => !n.includes('.tmp-')).sort()).toEqual(['exec.pid', 'init.pid', 'precious']); // no temp file left
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the state directories are root\'s alone', () => {
  it('--root and the container dir are 0700, exec.fifo 0600; a root owned by someone else is refused', () => {
    const own = mkdtempSync(join(tmpdir(), 'tsrun-modes-'));
    const stateRoot = join(own, 'state');
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', stateRoot, 'create', '--bundle', b.dir, id]).code).toBe(0);
      expect(statSync(stateRoot).mode & 0o777).toBe(0o700);
      expect(statSync(join(stateRoot, id)).mode & 0o777).toBe(0o700);
      expect(statSync(join(stateRoot, id, 'exec.fifo')).mode & 0o777).toBe(0o600);
      expect(tsrunSync(['--root', stateRoot, 'delete', '--force', id]).code).toBe(0);
      const foreign = join(own, 'foreign');
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 1000, 1000);
      const r = tsrunSync(['--root', foreign, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/open the state root ".*foreign": EPERM: owned by uid 1000, not by us/);
      expect(readdirSync(foreign)).toEqual([]);
    } finally {
      tsrunSync(['--root', stateRoot, 'delete', '--force', id]);
      b.cleanup();
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe('pid reuse: a record whose pid is not (or no longer provably) its init', () => {
  for (const fast of [true, false]) {
    it(`kill and delete --force never signal another process with that pid (${fast ? 'front binary' : 'TypeScript path'})`, () => {
      const env = fast ? process.env : { ...process.env, TSRUN_NO_FAST: '1' };
      const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
      const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        for (const startTime of [undefined, '1']) {
          const id = uniqueId();
          expect(tsrunSync(['--root', root, 'create', '--bundle', b.dir, id]).code).toBe(0);
          const stateFile = join(root, id, 'state.json');
          const rec = JSON.parse(readFileSync(stateFile, 'utf8'));
          const realPid = rec.pid;
          // The init is gone and its pid now belongs to the bystander: what a reused pid looks like.
          rec.pid = bystander.pid;
          if (startTime === undefined) delete rec.pidStartTime;
          else rec.pidStartTime = startTime;
          writeFileSync(stateFile, JSON.stringify(rec));
          const fastFile = join(root, id, 'fast.state');
          if (existsSync(fastFile)) {
            writeFileSync(fastFile, readFileSync(fastFile, 'utf8').replace(/^pid \d+$/m, `pid ${bystander.pid}`).replace(/^start .*$/m, `start ${startTime ?? ''}`));
          }
          tsrunSync(['--root', root, 'kill', id, 'KILL'], { env });
          tsrunSync(['--root', root, 'delete', '--force', id], { env });
          expect(running(bystander.pid!), `start time ${startTime}`).toBe(true);
          process.kill(realPid, 'SIGKILL');
        }
      } finally {
        bystander.kill('SIGKILL');
        b.cleanup();
      }
    });
  }
});

describe('config strings the native side would misread', () => {
  it('a NUL byte in process.args is refused naming the field, and nothing is left', () => {
    const b = makeBundle((c) => (c.process!.args = ['sh', '-c', 'echo ran\u0000; touch /tmp/x']));
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/\.process\.args\[2\]: contains a NUL byte/);
      expect(stateDirs(root)).toEqual([]);
    } finally {
      b.cleanup();
    }
  });
  it('60 000 environment variables reach the container (the limit after that is the kernel\'s, named as E2BIG)', () => {
    const b = makeBundle((c) => {
      c.process!.args = ['sh', '-c', 'echo "$K59999"'];
      c.process!.env = [...(c.process!.env ?? []), ...Array.from({ length: 60_000 }, (_, i) => `K${i}=v${i}`)];
    });
    try {
      const r = tsrunSync(['--root', root, 'run', '--bundle', b.dir, uniqueId()]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('v59999\n');
    } finally {
      b.cleanup();
    }
  });
});

describe('a state record that is not as create wrote it', () => {
  it('is refused by kill and delete --force (cgroup paths outside /sys/fs/cgroup), and the container is not forgotten', () => {
    const b = makeBundle((c) => (c.process!.args = ['sleep', '1000']));
    const id = uniqueId();
    try {
      expect(tsrunSync(['--root', root, 'create', '--bundle', b.dir, id]).code).toBe(0);
      const stateFile = join(root, id, 'state.json');
      const good = readFileSync(stateFile, 'utf8');
      const rec = JSON.parse(good);
      rec.cgroupCreated = ['/etc'];
      writeFileSync(stateFile, JSON.stringify(rec));
      rmSync(join(root, id, 'fast.state'), { force: true });
      const k = tsrunSync(['--root', root, 'kill', id, 'KILL']);
      expect(k.code).toBe(1);
      expect(k.stderr).toMatch(/corrupt state: cgroupCreated must list directories below \/sys\/fs\/cgroup/);
      const r = tsrunSync(['--root', root, 'delete', '--force', id]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/corrupt state: cgroupCreated must list directories below \/sys\/fs\/cgroup/);
      expect(existsSync(join(root, id))).toBe(true);
      expect(existsSync('/etc')).toBe(true);
      writeFileSync(stateFile, good);
    } finally {
      tsrunSync(['--root', root, 'delete', '--force', id]);
      b.cleanup();
    }
  });
});

describe('the launch plan reaches tsrun-init sealed', () => {
  it('tsrun-init refuses a plan memfd that could still be written', () => {
    // A well-formed empty plan in an unsealed memfd, handed over as the runtime would.
    const py = [
      'import os, socket, subprocess, sys',
      'a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)',
      'm = os.memfd_create("plan", os.MFD_ALLOW_SEALING)',
      'os.write(m, b"TSP1" + bytes(4))',
      'p = subprocess.run([sys.argv[1], str(b.fileno()), str(m), "0", "-1"], pass_fds=(b.fileno(), m), capture_output=True)',
      'b.close()',
      'print(a.recv(65536).replace(b"\\0", b"|").decode())',
    ].join('\n');
    const out = execFileSync('python3', ['-c', py, resolve(import.meta.dirname, '../../build/Release/tsrun-init')], { encoding: 'utf8' });
    expect(out).toMatch(/ERR\W+read the launch plan\W.*the plan memfd is not sealed/);
  });
});
