// A busybox image built locally (nothing can be pulled here): one layer with
// Debian's busybox-static and its applets, as an OCI image-layout tar that
// `ctr image import`, `podman load` and `docker load` read.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const IMAGE_REF = 'docker.io/library/busybox:tsrun-test';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

export function buildBusyboxImage() {
  const work = mkdtempSync(join(tmpdir(), 'img-'));
  const rootfs = join(work, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'root', 'home/user', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  chmodSync(join(rootfs, 'bin/busybox'), 0o755);
  for (const a of execFileSync('/bin/busybox', ['--list']).toString().split('\n').filter((x) => x && x !== 'busybox')) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n');
  writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nuser:x:1000:\n');
  const layerTar = join(work, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = readFileSync(layerTar);
  const layerGz = execFileSync('gzip', ['-n', '-c', layerTar], { maxBuffer: 1 << 28 });
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const put = (b) => {
    const d = sha256(b);
    writeFileSync(join(layout, 'blobs/sha256', d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const l = put(layerGz);
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
  }));
  const c = put(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l }],
  }));
  const m = put(manifest);
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': IMAGE_REF, 'io.containerd.image.name': IMAGE_REF } }],
  }));
  const out = join(tmpdir(), `busybox-oci-${process.pid}.tar`);
  execFileSync('tar', ['-C', layout, '-cf', out, '.']);
  // The same image as a `docker save` archive, which docker 20.10 loads (it reads no OCI layouts).
  const archive = join(work, 'docker');
  mkdirSync(join(archive, 'layer'), { recursive: true });
  copyFileSync(layerTar, join(archive, 'layer/layer.tar'));
  writeFileSync(join(archive, `${c.digest.slice(7)}.json`), config);
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify([{ Config: `${c.digest.slice(7)}.json`, RepoTags: [IMAGE_REF.replace('docker.io/library/', '')], Layers: ['layer/layer.tar'] }]));
  execFileSync('tar', ['-C', archive, '-cf', out.replace('.tar', '-docker.tar'), '.']);
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** The docker-archive twin that buildBusyboxImage() writes beside the OCI tar. */
export const dockerArchiveOf = (ociTar) => ociTar.replace('.tar', '-docker.tar');

// `node test/engines/image.mjs` builds the image and prints the tar's path.
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(buildBusyboxImage() + '\n');
