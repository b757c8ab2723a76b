// Builds OCI bundles for tests: a busybox rootfs from Debian's busybox-static
// (no image can be downloaded here) and a config from `tsrun spec`, adjusted.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/spec/types.js';
import { tsrunSync } from './tsrun.js';

export const BUSYBOX = '/bin/busybox';

let template: string | undefined;

/** True if an ELF64 file names a dynamic loader (a PT_INTERP program header). */
function hasInterpreter(elf: Buffer): boolean {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === 3) return true;
  return false;
}

/** A rootfs directory with busybox and its applets, built once per test process. */
function rootfsTemplate(): string {
  if (template) return template;
  if (hasInterpreter(readFileSync(BUSYBOX))) throw new Error(`${BUSYBOX} is dynamically linked: install busybox-static`);
  template = mkdtempSync(join(tmpdir(), 'tsrun-rootfs-'));
  chmodSync(template, 0o755);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'home/user', 'var']) mkdirSync(join(template, d), { recursive: true });
  copyFileSync(BUSYBOX, join(template, 'bin/busybox'));
  const applets = execFileSync(BUSYBOX, ['--list']).toString().split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(template, 'bin', a));
  writeFileSync(join(template, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  writeFileSync(join(template, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
  return template;
}

export interface Bundle {
  dir: string;
  rootfs: string;
  config: Spec;
  write(): void;
  cleanup(): void;
}

/** A fresh bundle dir with a copy of the busybox rootfs and `tsrun spec`'s config (terminal off). */
export function makeBundle(edit?: (c: Spec) => void): Bundle {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-bundle-'));
  // mkdtemp makes it 0700; root mapped into a user namespace must still reach the rootfs.
  chmodSync(dir, 0o755);
  const rootfs = join(dir, 'rootfs');
  execFileSync('cp', ['-a', rootfsTemplate(), rootfs]);
  const r = tsrunSync(['spec', '--bundle', dir]);
  if (r.code !== 0) throw new Error(`tsrun spec failed: ${r.stderr}`);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
  config.process!.terminal = false;
  config.root!.readonly = false;
  const bundle: Bundle = {
    dir,
    rootfs,
    config,
    write: () => writeFileSync(join(dir, 'config.json'), JSON.stringify(bundle.config, null, 2)),
    cleanup: () => {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
  edit?.(config);
  bundle.write();
  return bundle;
}
