import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { specFromImage } from '../../src/image/bundle/imageSpec.js';

describe('the spec of an image', () => {
  const root = mkdtempSync(join(tmpdir(), 'rootfs-'));
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');

  it('builds args from Entrypoint + Cmd, and PATH when the image has none', () => {
    const spec = specFromImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Entrypoint: ['/bin/app'], Cmd: ['--flag'], Env: ['A=1'] } }, root, { id: 'c1', imageName: 'x' });
    expect(spec.process!.args).toEqual(['/bin/app', '--flag']);
    expect(spec.process!.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'HOME=/root']);
    expect(spec.process!.cwd).toBe('/');
    expect(() => specFromImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, root, { id: 'c1', imageName: 'x' })).toThrow(/no Entrypoint or Cmd/);
  });
});
