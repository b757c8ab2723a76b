// A Docker Registry v2 / OCI distribution client: manifests and blobs for one
// repository, with the registry's auth dance (a 401 with a Bearer challenge
// → a token from its realm, or Basic with stored credentials) done once per
// client and retried transparently.
import { RuntimeError } from '../../common/errors.js';
import { MANIFEST_ACCEPT, type Descriptor } from '../mediaTypes.js';
import type { ImageReference } from '../reference.js';
import { sha256 } from '../content/store.js';
import { findCredentials, type Credentials } from './credentials.js';

export interface RegistryOptions {
  /** Plain HTTP even for a non-local registry. */
  insecure?: boolean;
  authFile?: string;
  /** Credentials for this pull (a daemon's client sent them); the auth files are not read then. */
  credentials?: Credentials;
  /** A bearer token the client already holds (Docker's AuthConfig.registrytoken). */
  registryToken?: string;
  /** Registry host → the host to fetch from instead (docker's registry-mirrors). */
  mirrors?: Record<string, string>;
  /** The token scope's actions (`pull` unless told; a push asks `push,pull`). */
  actions?: string;
  /**
   * A GET that gets no byte (headers or body) for this long is aborted (default 60 s):
   * a registry that stalls mid-layer would otherwise hold the pull, its lock and its
   * client forever.
   */
  stallTimeoutMs?: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** The error of a stalled transfer, as the content store reports network errors (code + message). */
function stallError(ms: number, host: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${host} sent nothing for ${ms / 1000} s (registry stall timeout)`), { code: 'ETIMEDOUT' });
}

/**
 * A response body read with an inactivity timeout: each read must bring bytes within
 * `ms`, else the request is aborted (its socket closed) and the read fails. The time the
 * consumer spends on a chunk does not count.
 */
async function* guardedBody(body: ReadableStream<Uint8Array>, ms: number, abort: (e: Error) => void, host: string): AsyncIterable<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const e = stallError(ms, host);
          abort(e);
          reject(e);
        }, ms);
      });
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await Promise.race([reader.read(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) return;
      yield r.value;
    }
  } finally {
    // An early stop (an error of the consumer, a stall) must not leave the socket open.
    reader.cancel().catch(() => undefined);
  }
}

/** `docker.io=127.0.0.1:5000,quay.io=mirror:5000` → a map. */
export function parseMirrors(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw Object.assign(new Error(`invalid mirror ${JSON.stringify(part)}: use REGISTRY=HOST[:PORT]`), { name: 'UsageError' });
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export interface FetchedManifest {
  data: Buffer;
  mediaType: string;
  digest: string;
}

const MAX_MANIFEST = 4 << 20;

/** Hosts Docker treats as insecure by default: loopback. */
function isLocal(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return { scheme: '', params: {} };
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = p[2] ?? p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export class RegistryClient {
  readonly base: string;
  private authorization?: string;
  private credentials?: Credentials | null;

  /** The host actually asked (a mirror's, when one is set for the registry). */
  readonly host: string;

  constructor(readonly ref: ImageReference, private readonly opts: RegistryOptions = {}) {
    const mirror = opts.mirrors?.[ref.registry];
    const host = mirror ?? (ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry);
    this.host = host;
    const scheme = opts.insecure || isLocal(host) ? 'http' : 'https';
    this.base = `${scheme}://${host}/v2/${ref.repository}`;
    if (opts.registryToken) this.authorization = `Bearer ${opts.registryToken}`;
  }

  private creds(): Credentials | undefined {
    if (this.opts.credentials) return this.opts.credentials;
    if (this.credentials === undefined) this.credentials = findCredentials(this.opts.mirrors?.[this.ref.registry] ?? this.ref.registry, this.opts.authFile) ?? null;
    return this.credentials ?? undefined;
  }

  private get stallMs(): number {
    return this.opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  }

  /**
   * GET with auth; a 401 is answered once with the challenge's scheme. The answer's
   * headers must come within the stall timeout; `ctl` aborts the request later (the body).
   */
  private async get(url: string, headers: Record<string, string>, step: string, ctl = new AbortController()): Promise<Response> {
    const timer = setTimeout(() => ctl.abort(stallError(this.stallMs, this.host)), this.stallMs);
    try {
      return await this.request('GET', url, headers, step, undefined, ctl.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Any request with the registry's auth (a body is a Buffer, so that it can be
   * sent again after the 401 that asked for credentials).
   */
  async request(method: string, url: string, headers: Record<string, string>, step: string, body?: Buffer, signal?: AbortSignal): Promise<Response> {
    let res = await this.send(url, headers, step, method, body, signal);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      const first = await registryErrors(res);
      try {
        await this.authenticate(challenge, step);
      } catch (e) {
        throw withRegistryErrors(e, 401, (e as { registry?: RegistryFailure }).registry?.errors ?? first);
      }
      res = await this.send(url, headers, step, method, body, signal);
      if (res.status === 401) {
        const errors = await registryErrors(res);
        throw withRegistryErrors(new RuntimeError({ step, path: url, detail: `HTTP 401: the registry refused ${this.creds() ? `the credentials of ${this.creds()!.username}` : 'anonymous access and no credentials for it were found'}` }), 401, errors);
      }
    }
    return res;
  }

  private async send(url: string, headers: Record<string, string>, step: string, method = 'GET', body?: Buffer, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { method, signal, body: body ? new Uint8Array(body) : undefined, headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) }, redirect: method === 'GET' || method === 'HEAD' ? 'follow' : 'manual' });
    } catch (e) {
      if (signal?.aborted && signal.reason instanceof Error) throw networkError(step, url, { cause: signal.reason });
      throw networkError(step, url, e);
    }
  }

  private async authenticate(header: string, step: string): Promise<void> {
    const { scheme, params } = parseChallenge(header);
    const creds = this.creds();
    if (scheme === 'basic') {
      if (!creds) throw new RuntimeError({ step, path: this.base, detail: `HTTP 401: the registry wants a user name and password (Basic) and none is stored for ${this.ref.registry}` });
      this.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RuntimeError({ step, path: this.base, detail: `HTTP 401 with an authentication challenge tsctl does not know: ${JSON.stringify(header)}` });
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    // A push needs push and pull on the repository, whatever scope the challenge named.
    url.searchParams.set('scope', this.opts.actions ? `repository:${this.ref.repository}:${this.opts.actions}` : (params.scope ?? `repository:${this.ref.repository}:pull`));
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(url, { headers });
    } catch (e) {
      throw networkError('get a registry token', url.toString(), e);
    }
    if (!res.ok) {
      const text = await res.text();
      throw withRegistryErrors(new RuntimeError({ step: 'get a registry token', path: url.toString(), detail: `HTTP ${res.status}: ${text.slice(0, 200)}` }), res.status, tokenErrors(res.status, text));
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RuntimeError({ step: 'get a registry token', path: url.toString(), detail: 'the answer has no token' });
    this.authorization = `Bearer ${token}`;
  }

  /** A manifest or index by tag or digest; the digest is checked against what arrived. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const url = `${this.base}/manifests/${reference}`;
    const step = `fetch manifest ${reference}`;
    const ctl = new AbortController();
    const res = await this.get(url, { accept: MANIFEST_ACCEPT }, step, ctl);
    if (!res.ok) throw await httpError(step, url, res);
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_MANIFEST) throw new RuntimeError({ step, path: url, detail: `manifest of ${length} bytes is over the ${MAX_MANIFEST} limit` });
    const chunks: Uint8Array[] = [];
    try {
      for await (const c of guardedBody(res.body ?? new Blob([]).stream(), this.stallMs, (e) => ctl.abort(e), this.host)) chunks.push(c);
    } catch (e) {
      throw networkError(step, url, { cause: e });
    }
    const data = Buffer.concat(chunks);
    const digest = sha256(data);
    if (reference.startsWith('sha256:') && digest !== reference) throw new RuntimeError({ step: `verify manifest ${reference}`, path: url, detail: `the registry sent content with digest ${digest}` });
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) throw new RuntimeError({ step: `verify manifest ${reference}`, path: url, detail: `Docker-Content-Digest says ${claimed}, the content is ${digest}` });
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    try {
      const parsed = JSON.parse(data.toString('utf8')) as { mediaType?: string; schemaVersion?: number };
      if (parsed.mediaType) mediaType = parsed.mediaType;
      if (parsed.schemaVersion === 1) throw new RuntimeError({ step, path: url, detail: 'a Docker schema 1 manifest (deprecated, unsupported); push the image again with a current tool' });
      if (!parsed.mediaType && !mediaType.includes('vnd.')) mediaType = 'manifests' in parsed ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    } catch (e) {
      if (e instanceof RuntimeError) throw e;
      throw new RuntimeError({ step, path: url, detail: `not JSON: ${(e as Error).message}` });
    }
    return { data, mediaType, digest };
  }

  /** A blob's bytes from `offset` (a Range request); offset 0 when the registry ignores ranges. */
  async blob(desc: Descriptor, offset: number): Promise<{ offset: number; body: AsyncIterable<Uint8Array> }> {
    const url = `${this.base}/blobs/${desc.digest}`;
    const step = `fetch blob ${desc.digest}`;
    let ctl = new AbortController();
    let res = await this.get(url, offset > 0 ? { range: `bytes=${offset}-` } : {}, step, ctl);
    if (res.status === 416) {
      await res.body?.cancel();
      ctl = new AbortController();
      res = await this.get(url, {}, step, ctl);
      offset = 0;
    }
    if (!res.ok) throw await httpError(step, url, res);
    if (!res.body) throw new RuntimeError({ step, path: url, detail: 'empty answer' });
    const start = res.status === 206 ? offset : 0;
    return { offset: start, body: guardedBody(res.body, this.stallMs, (e) => ctl.abort(e), this.host) };
  }

  /** Where a blob comes from, for messages. */
  blobUrl(digest: string): string {
    return `${this.base}/blobs/${digest}`;
  }
}

/** What a registry answered when it refused: the status and its error document's entries. */
export interface RegistryFailure {
  status: number;
  errors: Array<{ code: string; message: string }>;
}

/** The `errors` of a registry's error document (none when the body is something else). */
async function registryErrors(res: Response): Promise<RegistryFailure['errors']> {
  try {
    const body = JSON.parse(await res.text()) as { errors?: Array<{ code?: string; message?: string }> };
    return (body.errors ?? []).map((e) => ({ code: String(e.code ?? ''), message: String(e.message ?? '') }));
  } catch {
    return [];
  }
}

/** A token endpoint's refusal as a registry error: Docker Hub's {"details": ...}, or an errors document. */
function tokenErrors(status: number, text: string): RegistryFailure['errors'] {
  try {
    const body = JSON.parse(text) as { details?: string; errors?: Array<{ code?: string; message?: string }> };
    if (body.errors?.length) return body.errors.map((e) => ({ code: String(e.code ?? ''), message: String(e.message ?? '') }));
    if (body.details) return [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message: body.details }];
  } catch { /* not JSON */ }
  return [];
}

/** The error, carrying what the registry said (callers that speak Docker's messages read it). */
function withRegistryErrors(e: unknown, status: number, errors: RegistryFailure['errors']): unknown {
  if (e && typeof e === 'object' && !('registry' in e)) Object.assign(e, { registry: { status, errors } satisfies RegistryFailure });
  return e;
}

export async function httpError(step: string, url: string, res: Response): Promise<RuntimeError> {
  let detail = `HTTP ${res.status} ${res.statusText}`;
  const errors = await registryErrors(res);
  if (errors.length) detail += `: ${errors.map((e) => `${e.code} ${e.message}`.trim()).join('; ')}`;
  return withRegistryErrors(new RuntimeError({ step, path: url, detail }), res.status, errors) as RuntimeError;
}

function networkError(step: string, url: string, e: unknown): RuntimeError {
  const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
  return new RuntimeError({
    step,
    path: url,
    syscall: cause?.syscall,
    errno: cause?.code,
    detail: cause?.code === 'ECONNREFUSED' ? 'nothing listens there: is the registry running?' : (cause?.message ?? (e as Error).message),
  });
}
