// Where npm put bun's binary for this machine, as addon/fast/handover.c looks for
// it: the optional dependency for this architecture, in this checkout's
// node_modules or hoisted beside the package. undefined where it is not installed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function bunBinary(root) {
  const pkg = { x64: '@oven/bun-linux-x64-baseline', arm64: '@oven/bun-linux-aarch64' }[process.arch];
  if (!pkg) return undefined;
  return [join(root, 'node_modules', pkg, 'bin', 'bun'), join(root, '..', pkg, 'bin', 'bun')].find((p) => existsSync(p));
}
