// config.md root and mounts, config-linux.md devices, masked/readonly paths and
// rootfsPropagation, each checked from inside the container; symlink escapes refused.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeBundle } from '../helpers/bundle.js';
import { guardHost } from '../helpers/leftovers.js';
import { tsrunSync, uniqueId } from '../helpers/tsrun.js';
import type { Spec } from '../../src/spec/types.js';

let root: string;
guardHost((r) => (root = r), { deleteLeftovers: true });

function run(script: string, edit: (c: Spec, dir: string) => void = () => {}, extraArgs: string[] = []): { code: number; stdout: string; stderr: string } {
  const b = makeBundle((c) => (c.process!.args = ['sh', '-c', script]));
  try {
    edit(b.config, b.dir);
    b.write();
    return tsrunSync(['--root', root, 'run', ...extraArgs, '--bundle', b.dir, uniqueId()]);
  } finally {
    b.cleanup();
  }
}

function ok(script: string, edit?: (c: Spec, dir: string) => void, extraArgs?: string[]): string {
  const r = run(script, edit, extraArgs);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The mountinfo line for a mount point inside the container. */
const mountLine = (out: string, point: string) => out.split('\n').find((l) => l.split(' ')[4] === point) ?? '';

describe('root', () => {
  it('pivots into the rootfs, which is a mount point of its own', () => {
    const out = ok('cat /proc/self/mountinfo; ls /');
    expect(mountLine(out, '/')).not.toBe('');
    expect(out).toContain('\nbin\n');
    expect(out).not.toMatch(/\bwork\b/);
  });
  it('root.readonly makes / read-only', () => {
    const r = run('touch /x && echo wrote; touch /tmp/y 2>&1; exit 0', (c) => (c.root!.readonly = true));
    expect(r.stdout).not.toContain('wrote');
    expect(r.stdout).toMatch(/Read-only file system/);
  });
  it('--no-pivot moves the rootfs onto / and chroots', () => {
    const out = ok('ls / | head -3; test -d /proc/1 && echo proc', () => {}, ['--no-pivot']);
    expect(out).toMatch(/bin\ndev\netc\nproc\n/);
  });
  it('rootfsPropagation is applied to the container\'s root', () => {
    const tag = (p: string) => mountLine(ok('cat /proc/self/mountinfo', (c) => (c.linux!.rootfsPropagation = p)), '/');
    expect(tag('rshared')).toMatch(/ shared:\d+/);
    // This host's / is private, so a slave root has no master to show: it is simply not shared.
    expect(tag('rslave')).not.toMatch(/shared:/);
    expect(tag('rprivate')).not.toMatch(/shared:|master:/);
    expect(tag('runbindable')).toMatch(/ unbindable/);
  });
});

describe('mounts', () => {
  it('mounts proc, sysfs, tmpfs, devpts, mqueue and cgroup with their options', () => {
    const out = ok('cat /proc/self/mountinfo');
    expect(mountLine(out, '/proc')).toMatch(/ - proc proc /);
    expect(mountLine(out, '/sys')).toMatch(/ ro,nosuid,nodev,noexec.* - sysfs /);
    expect(mountLine(out, '/dev')).toMatch(/ - tmpfs tmpfs .*mode=755/);
    expect(mountLine(out, '/dev/pts')).toMatch(/ - devpts devpts .*ptmxmode=666/);
    expect(mountLine(out, '/dev/shm')).toMatch(/nosuid,nodev,noexec.* - tmpfs shm .*size=65536k/);
    expect(mountLine(out, '/dev/mqueue')).toMatch(/ - mqueue mqueue /);
    expect(mountLine(out, '/sys/fs/cgroup')).toMatch(/^\S+ \S+ \S+ \S+ \/sys\/fs\/cgroup ro,/);
  });
  it('shows only the container\'s own cgroup under /sys/fs/cgroup, read-only', () => {
    // v1: a tmpfs with one bind per controller; v2: the container's own cgroup directory. Read-only either way,
    // and with a cgroup namespace the container sees its cgroup as "/".
    const out = ok('grep -c "::/$\\|:/$" /proc/self/cgroup; (ls /sys/fs/cgroup/memory 2>/dev/null || ls /sys/fs/cgroup) | grep -c "^cgroup.procs$"; touch /sys/fs/cgroup/x 2>&1; exit 0');
    const [rootLines, procs, touch] = out.trim().split('\n');
    expect(Number(rootLines)).toBeGreaterThan(0);
    expect(procs).toBe('1');
    expect(touch).toMatch(/Read-only file system/);
  });
  it('bind mounts a host directory read-only, and a file', () => {
    const out = ok('cat /data/hello; touch /data/x 2>&1; cat /etc/one-file; exit 0', (c, dir) => {
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data/hello'), 'hi from host\n');
      writeFileSync(join(dir, 'file.txt'), 'single file\n');
      c.mounts!.push({ destination: '/data', type: 'bind', source: join(dir, 'data'), options: ['rbind', 'ro'] });
      c.mounts!.push({ destination: '/etc/one-file', type: 'bind', source: 'file.txt', options: ['bind'] }); // relative to the bundle
    });
    expect(out).toBe('hi from host\ntouch: /data/x: Read-only file system\nsingle file\n');
  });
  it('applies nosuid, nodev, noexec and atime options on a bind remount', () => {
    const out = ok('grep " /data " /proc/self/mountinfo', (c, dir) => {
      mkdirSync(join(dir, 'data'));
      c.mounts!.push({ destination: '/data', type: 'bind', source: join(dir, 'data'), options: ['bind', 'nosuid', 'nodev', 'noexec', 'noatime'] });
    });
    expect(out).toMatch(/ \/data rw,nosuid,nodev,noexec,noatime /);
  });
  it('creates missing mount targets inside the rootfs', () => {
    const out = ok('grep " /a/b/c " /proc/self/mountinfo | cut -d" " -f5', (c) => c.mounts!.push({ destination: '/a/b/c', type: 'tmpfs', source: 'tmpfs' }));
    expect(out).toBe('/a/b/c\n');
  });
  it('tmpcopyup fills the new tmpfs with what the image had there', () => {
    const out = ok('cat /etc/passwd | head -1; grep " /etc " /proc/self/mountinfo | cut -d" " -f9', (c) => c.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }));
    expect(out).toBe('root:x:0:0:root:/root:/bin/sh\ntmpfs\n');
  });
  it('a mount the kernel refuses names the mount and the field', () => {
    const r = run('true', (c) => c.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', options: ['size=bogus'] }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mount tmpfs on "\/x" \(config \.mounts\[7\]\): mount: EINVAL/);
  });
});

describe('symlinks in the rootfs never lead outside it', () => {
  it('a mount destination through a symlink resolves inside the rootfs; a dangling one is refused', () => {
    const hostDir = join(root, `host-target-${process.pid}`);
    mkdirSync(hostDir, { recursive: true });
    try {
      // /up -> ../../../../../../inside: ".." stops at the rootfs' root, so this is /inside.
      const out = ok('grep -c " /inside/target " /proc/self/mountinfo', (c, dir) => {
        mkdirSync(join(dir, 'rootfs/inside'));
        symlinkSync('../../../../../../../inside', join(dir, 'rootfs/up'));
        c.mounts!.push({ destination: '/up/target', type: 'tmpfs', source: 'tmpfs' });
      });
      expect(out).toBe('1\n');
      // /evil -> <a host dir> (absolute): inside the rootfs that path does not exist: refused, host untouched.
      const r = run('true', (c, dir) => {
        symlinkSync(hostDir, join(dir, 'rootfs/evil'));
        c.mounts!.push({ destination: '/evil/mnt', type: 'tmpfs', source: 'tmpfs' });
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/mount tmpfs on "\/evil\/mnt" \(config \.mounts\[7\]\): openat2: ENOENT: a symlink on the way points to a path that does not exist inside the rootfs/);
      expect(existsSync(join(hostDir, 'mnt'))).toBe(false);
      // An absolute symlink to a path that exists in the rootfs is followed inside it.
      const out2 = ok('grep -c " /etc/sub " /proc/self/mountinfo; ls /etc/sub', (c, dir) => {
        symlinkSync('/etc', join(dir, 'rootfs/etc-link'));
        c.mounts!.push({ destination: '/etc-link/sub', type: 'tmpfs', source: 'tmpfs' });
      });
      expect(out2).toBe('1\n');
      expect(existsSync('/etc/sub')).toBe(false);
    } finally {
      rmSync(hostDir, { recursive: true, force: true });
    }
  });
  it('refuses /proc when it is a symlink', () => {
    const r = run('true', (c, dir) => {
      rmSync(join(dir, 'rootfs/proc'), { recursive: true });
      symlinkSync('/tmp', join(dir, 'rootfs/proc'));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/mount proc on "\/proc" \(config \.mounts\[0\]\): openat2: ELOOP: refusing a destination that is or passes through a symlink/);
  });
  it('a device path through a symlink stays inside the rootfs', () => {
    const out = ok('ls -l /dev/ | grep -c mydev', (c) => c.linux!.devices = [{ path: '/dev/mydev', type: 'c', major: 1, minor: 3 }]);
    expect(out.trim()).toBe('1');
  });
});

describe('devices', () => {
  it('creates the default devices and the /dev symlinks', () => {
    const out = ok('for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done');
    expect(out).toBe([
      '/dev/null character special file 1:3 666', '/dev/zero character special file 1:5 666', '/dev/full character special file 1:7 666',
      '/dev/random character special file 1:8 666', '/dev/urandom character special file 1:9 666', '/dev/tty character special file 5:0 666',
      'pts/ptmx', '/proc/self/fd', '/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2', '',
    ].join('\n'));
  });
  it('creates linux.devices with type, numbers, fileMode, uid and gid', () => {
    const out = ok('stat -c "%F %t:%T %a %u %g" /dev/mynull /dev/sub/blk', (c) => {
      c.linux!.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 },
        { path: '/dev/sub/blk', type: 'b', major: 7, minor: 200, fileMode: 0o600, uid: 0, gid: 0 },
      ];
    });
    expect(out).toBe('character special file 1:3 620 1000 5\nblock special file 7:c8 600 0 0\n');
  });
});

describe('masked and read-only paths', () => {
  it('masks files with /dev/null and directories with an empty read-only tmpfs', () => {
    const out = ok('stat -c "%t:%T" /proc/timer_list; ls /proc/acpi | wc -l; touch /proc/acpi/x 2>&1; cat /proc/keys | wc -c; exit 0');
    expect(out).toBe('1:3\n0\ntouch: /proc/acpi/x: Read-only file system\n0\n');
  });
  it('makes readonlyPaths read-only', () => {
    const out = ok('(echo x > /proc/sys/kernel/domainname) 2>&1; (echo 1 > /proc/sys/net/ipv4/ip_forward) 2>&1; exit 0');
    expect(out.match(/Read-only file system/g)?.length).toBe(2);
  });
  it('skips masked paths that do not exist', () => {
    expect(ok('echo ok', (c) => c.linux!.maskedPaths!.push('/no/such/path'))).toBe('ok\n');
  });
});

describe('idmapped mounts', () => {
  it('idmap maps file owners from the source filesystem (containerID) to the mount (hostID)', () => {
    // Files owned by 0 on disk appear as 1000:1001 through the mount; the rest of the rootfs is unchanged.
    const out = ok('stat -c "%u:%g" /data/owned /data /etc/passwd', (c, dir) => {
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data/owned'), 'x');
      c.mounts!.push({
        destination: '/data', type: 'bind', source: join(dir, 'data'), options: ['bind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1001, size: 1 }],
      });
    });
    expect(out).toBe('1000:1001\n1000:1001\n0:0\n');
    // Without idmap the same files show their on-disk owner.
    const plain = ok('stat -c "%u:%g" /data/owned', (c, dir) => {
      mkdirSync(join(dir, 'data'));
      writeFileSync(join(dir, 'data/owned'), 'x');
      c.mounts!.push({ destination: '/data', type: 'bind', source: join(dir, 'data'), options: ['bind'] });
    });
    expect(plain).toBe('0:0\n');
  });
  it('needs mappings, and is only for bind mounts', () => {
    const r = run('true', (c, dir) => c.mounts!.push({ destination: '/data', type: 'bind', source: dir, options: ['bind', 'idmap'] }));
    expect(r.stderr).toMatch(/plan idmapped mount \(config \.mounts\[7\]\.uidMappings\): an idmap mount needs uidMappings and gidMappings/);
  });
});
