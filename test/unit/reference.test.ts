import { describe, expect, it } from 'vitest';
import { familiarName, formatReference, parseReference } from '../../src/image/reference.js';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app:v2', 'docker.io/user/app:v2'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['localhost/app:x', 'localhost/app:x'],
    ['quay.io/a/b/c:1.0', 'quay.io/a/b/c:1.0'],
    [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`],
    [`busybox:1@sha256:${'b'.repeat(64)}`, `docker.io/library/busybox:1@sha256:${'b'.repeat(64)}`],
    ['127.0.0.1:5000/a', '127.0.0.1:5000/a:latest'],
    ['my-registry.example:443/a/b', 'my-registry.example:443/a/b:latest'],
  ])('%s → %s', (input, full) => {
    expect(formatReference(parseReference(input))).toBe(full);
  });

  it.each(['', 'Busybox', 'busybox:', 'a b', 'busybox@sha256:123', 'busybox:-x', 'a//b', '../x', '../../etc/passwd', 'a..b/c', '-a.b/c', 'a.b:port/c', '.x/y'])('refuses %j', (bad) => {
    expect(() => parseReference(bad)).toThrow(/invalid image reference/);
  });

  it('shows familiar names', () => {
    expect(familiarName('docker.io/library/busybox:latest')).toBe('busybox:latest');
    expect(familiarName('docker.io/user/app:1')).toBe('user/app:1');
    expect(familiarName('quay.io/a/b:1')).toBe('quay.io/a/b:1');
  });
});
