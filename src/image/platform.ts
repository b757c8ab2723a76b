// Platform selection in an index: os/architecture/variant, Docker's defaults
// for variants (arm64 → v8), and the machine's own platform as the default.
import { arch } from 'node:os';
import type { Descriptor, Platform } from './mediaTypes.js';

const NODE_TO_OCI: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const a = NODE_TO_OCI[arch()] ?? arch();
  return { os: 'linux', architecture: a, ...(a === 'arm64' ? { variant: 'v8' } : {}) };
}

/** `linux/arm64/v8`, `linux/amd64` → a Platform. */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split('/');
  if (!os || !architecture) throw Object.assign(new Error(`invalid platform ${JSON.stringify(s)}: use os/arch[/variant]`), { name: 'UsageError' });
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export const formatPlatform = (p?: Platform) => (p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : 'unknown');

function variantOf(p: Platform): string | undefined {
  if (p.variant) return p.variant;
  if (p.architecture === 'arm64') return 'v8';
  return undefined;
}

export function matches(want: Platform, have?: Platform): boolean {
  if (!have) return false;
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  const wv = variantOf(want);
  return !wv || wv === variantOf(have);
}

/** The first manifest for `want`, skipping attestation manifests (unknown/unknown). */
export function selectManifest(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  return manifests.find((m) => matches(want, m.platform));
}
