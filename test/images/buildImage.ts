// Builds multi-layer test images as OCI layouts from plain directories:
// each layer is a directory tree turned into a tar (whiteouts are ordinary
// `.wh.*` files in it, as in any image), compressed with gzip, zstd or not.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type LayerFiles = Record<string, string | { symlink: string } | { dir: true } | { busybox: true } | { copy: string }>;
export type Compression = 'gzip' | 'zstd' | 'none';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export interface BuiltLayer { tar: Buffer; blob: Buffer; mediaType: string }

export function buildLayer(files: LayerFiles, compression: Compression = 'gzip'): BuiltLayer {
  const work = mkdtempSync(join(tmpdir(), 'layer-'));
  try {
    const root = join(work, 'root');
    mkdirSync(root);
    for (const [path, what] of Object.entries(files)) {
      const full = join(root, path);
      mkdirSync(dirname(full), { recursive: true });
      if (typeof what === 'string') writeFileSync(full, what);
      else if ('symlink' in what) symlinkSync(what.symlink, full);
      else if ('dir' in what) mkdirSync(full, { recursive: true });
      else {
        copyFileSync('busybox' in what ? '/bin/busybox' : what.copy, full);
        chmodSync(full, 0o755);
      }
    }
    const tarFile = join(work, 'layer.tar');
    execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--mtime=@0', '--sort=name', '-C', root, '-cf', tarFile, '.']);
    const tar = readFileSync(tarFile);
    let blob = tar;
    let mediaType = 'application/vnd.oci.image.layer.v1.tar';
    if (compression === 'gzip') {
      blob = execFileSync('gzip', ['-n', '-c', tarFile], { maxBuffer: 1 << 28 });
      mediaType += '+gzip';
    } else if (compression === 'zstd') {
      blob = execFileSync('zstd', ['-q', '-c', tarFile], { maxBuffer: 1 << 28 });
      mediaType += '+zstd';
    }
    return { tar, blob, mediaType };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** busybox and its applets, /etc/passwd with a user: the base most tests build on. */
export function busyboxFiles(): LayerFiles {
  const files: LayerFiles = { 'bin/busybox': { busybox: true } };
  for (const a of execFileSync('/bin/busybox', ['--list']).toString().split('\n').filter((x) => x && x !== 'busybox')) files[`bin/${a}`] = { symlink: 'busybox' };
  files['etc/passwd'] = 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n';
  files['etc/group'] = 'root:x:0:\nuser:x:1000:\nstaff:x:50:user\n';
  for (const d of ['tmp', 'root', 'home/user', 'proc', 'sys', 'dev', 'run']) files[d] = { dir: true };
  return files;
}

export interface ImageSpec {
  layers: BuiltLayer[];
  config?: Record<string, unknown>;
  architecture?: string;
  /** The config's history (docker history reads it). */
  history?: Array<Record<string, unknown>>;
}

/** Writes an OCI layout (dir) holding one image; returns the dir and the manifest digest. */
export function writeLayout(dir: string, img: ImageSpec, refName = 'latest'): { manifest: string; config: string } {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(join(dir, 'blobs/sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const config = Buffer.from(JSON.stringify({
    created: '2026-01-01T00:00:00Z',
    architecture: img.architecture ?? 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...(img.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: img.layers.map((l) => `sha256:${sha(l.tar)}`) },
    ...(img.history ? { history: img.history } : {}),
  }));
  const c = put(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: img.layers.map((l) => ({ mediaType: l.mediaType, ...put(l.blob) })),
  }));
  const m = put(manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': refName } }],
  }));
  return { manifest: m.digest, config: c.digest };
}

/** skopeo copy of an OCI layout into the registry (plain HTTP). */
export function push(layoutDir: string, dest: string, extra: string[] = []): void {
  execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests', ...extra, `oci:${layoutDir}:latest`, `docker://${dest}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}
