// Image names the way Docker reads them: `busybox` is
// docker.io/library/busybox:latest, `localhost:5000/a/b@sha256:...` keeps its
// registry, and a tag and a digest may both be given (the digest wins).

export interface ImageReference {
  /** Registry host as written (docker.io for Docker Hub). */
  registry: string;
  /** Repository path inside the registry (library/busybox). */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// Docker's domain: dot-separated labels (letters, digits, inner dashes), an optional port.
const DOMAIN_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;

/** Whether `host` is a registry host as Docker spells one (name or IPv4, optional port). */
export function isRegistryHost(host: string): boolean {
  return DOMAIN_RE.test(host);
}

export class ReferenceError extends Error {
  constructor(ref: string, why: string) {
    super(`invalid image reference ${JSON.stringify(ref)}: ${why}`);
    this.name = 'UsageError';
  }
}

export function parseReference(input: string): ImageReference {
  let rest = input.trim();
  if (!rest) throw new ReferenceError(input, 'empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw new ReferenceError(input, `digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ReferenceError(input, `tag ${JSON.stringify(tag)} is not valid`);
  }
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  // The first component is a registry when it looks like a host: a dot, a port, or localhost.
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === 'localhost')) registry = parts.shift()!;
  // `../x` or `a..b/c` is no host: refused, never looked up or stored as one.
  if (!DOMAIN_RE.test(registry)) throw new ReferenceError(input, `registry ${JSON.stringify(registry)} is not a host name with an optional port`);
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!COMPONENT_RE.test(p)) throw new ReferenceError(input, `repository component ${JSON.stringify(p)} must be lowercase letters, digits and separators`);
  }
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: parts.join('/'), tag, digest };
}

/** The full name an image is stored under: registry/repository:tag or @digest. */
export function formatReference(r: ImageReference): string {
  let s = `${r.registry}/${r.repository}`;
  if (r.tag) s += `:${r.tag}`;
  if (r.digest) s += `@${r.digest}`;
  return s;
}

/** What people type back: docker.io/library/ dropped, like `docker images` shows. */
export function familiarName(full: string): string {
  return full.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}
