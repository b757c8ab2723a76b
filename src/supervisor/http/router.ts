// A small router over node:http: Docker's paths with or without the /v1.xx
// prefix, `{name}` parameters, JSON bodies, the headers every answer carries,
// and errors as {"message": ...} with the status of their kind. Routes marked
// `hijack` get the raw socket of an `Upgrade: tcp` request (attach).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BadRequest, messageOf, statusOf } from './errors.js';

export const API_VERSION = '1.41';

export const COMMON_HEADERS: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Builder-Version': '1',
  'Docker-Experimental': 'false',
  Ostype: 'linux',
  Server: 'tsd',
};

const MAX_BODY = 4 << 20;

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** The JSON body (undefined when empty); malformed JSON, or a string with a NUL byte, is a 400. */
  json(): Promise<unknown>;
  raw: IncomingMessage;
}

export type Handler = (req: Request, res: ServerResponse) => Promise<void> | void;
/** A hijacked request: `upgrade` writes the 101 answer and hands over the socket. */
export type HijackHandler = (req: Request, conn: Hijack) => Promise<void>;

export interface Hijack {
  socket: Duplex;
  /** The bytes the client sent after its headers. */
  head: Buffer;
  upgrade(contentType: string): void;
  /** An error before the upgrade, as an ordinary answer. */
  fail(e: unknown): void;
}

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler?: Handler;
  hijack?: HijackHandler;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BadRequest(`request body larger than ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The path (Cmd[0], Labels.a) of the first string, value or key, with a NUL byte; undefined if none. */
function nulPath(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'string') return v.includes('\0') ? path : undefined;
  if (!v || typeof v !== 'object' || depth > 64) return undefined;
  for (const [k, x] of Object.entries(v)) {
    const p = Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    if (k.includes('\0')) return p;
    const hit = nulPath(x, p, depth + 1);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

function decodeParam(key: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequest(`invalid ${key} in the path: malformed %-escape in ${JSON.stringify(raw)}`);
  }
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusOf(e), { message: messageOf(e) });
}

/** A request URL as Docker's routes see it: the path without its /v1.xx prefix, and the query. */
export function splitDockerUrl(url: string): { path: string; query: URLSearchParams } {
  // Split by hand: `new URL` reads `//x/y` as host x, path /y, and resolves `..`.
  const q = url.indexOf('?');
  return {
    path: (q < 0 ? url : url.slice(0, q)).replace(/^\/v\d+\.\d+(?=\/)/, ''),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
  };
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(private readonly onError: (req: Request, e: unknown) => void) {}

  private add(method: string, path: string, r: Pick<Route, 'handler' | 'hijack'>): void {
    const keys: string[] = [];
    // A {name} may contain slashes where Docker allows it (image names): {name*}.
    const source = path.replace(/\{(\w+)(\*?)\}/g, (_m, k: string, star: string) => {
      keys.push(k);
      return star ? '(.+?)' : '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), keys, ...r });
  }

  get(path: string, h: Handler): void { this.add('GET', path, { handler: h }); }
  head(path: string, h: Handler): void { this.add('HEAD', path, { handler: h }); }
  post(path: string, h: Handler): void { this.add('POST', path, { handler: h }); }
  delete(path: string, h: Handler): void { this.add('DELETE', path, { handler: h }); }
  hijack(path: string, h: HijackHandler): void { this.add('POST', path, { hijack: h }); }
  /** A POST answered plainly, or hijacked when the client asks for an upgrade (exec start). */
  postOrHijack(path: string, h: Handler, hj: HijackHandler): void { this.add('POST', path, { handler: h, hijack: hj }); }

  /** The route of `method url`; a malformed %-escape in a parameter is the client's mistake (BadRequest). */
  private match(method: string, url: string): { route?: Route; req?: Omit<Request, 'raw' | 'json' | 'headers' | 'method'> } {
    const { path, query } = splitDockerUrl(url);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const m = route.pattern.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((k, i) => (params[k] = decodeParam(k, m[i + 1])));
      return { route, req: { path, params, query } };
    }
    return {};
  }

  private request(raw: IncomingMessage, base: Omit<Request, 'raw' | 'json' | 'headers' | 'method'>): Request {
    return {
      ...base,
      method: raw.method ?? 'GET',
      headers: raw.headers,
      raw,
      async json() {
        const body = await readBody(raw);
        if (!body.length) return undefined;
        let value: unknown;
        try {
          value = JSON.parse(body.toString('utf8'));
        } catch (e) {
          throw new BadRequest(`invalid JSON in the request body: ${(e as Error).message}`);
        }
        // The runtime and the kernel would cut such a string at the NUL (or refuse it later, as a 500).
        const nul = nulPath(value, '');
        if (nul !== undefined) throw new BadRequest(`${nul || 'request body'}: invalid string: it contains a NUL byte`);
        return value;
      },
    };
  }

  async handle(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
    let found: ReturnType<Router['match']>;
    try {
      found = this.match(raw.method ?? 'GET', raw.url ?? '/');
    } catch (e) {
      sendError(res, e);
      raw.resume();
      return;
    }
    const { route, req } = found;
    if (!route?.handler || !req) {
      // dockerd's answer to a path it has no route for, whatever the method (a path known for
      // another method too: its mux's method-not-allowed handler is the not-found one).
      sendJson(res, 404, { message: 'page not found' });
      raw.resume();
      return;
    }
    const r = this.request(raw, req);
    try {
      await route.handler(r, res);
    } catch (e) {
      this.onError(r, e);
      sendError(res, e);
    }
  }

  async handleUpgrade(raw: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const headerLines = Object.entries(COMMON_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    let found: ReturnType<Router['match']> = {};
    let matchError: unknown;
    try {
      found = this.match(raw.method ?? 'GET', raw.url ?? '/');
    } catch (e) {
      matchError = e;
    }
    const { route, req } = found;
    let upgraded = false;
    const conn: Hijack = {
      socket,
      head,
      upgrade(contentType) {
        upgraded = true;
        socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${headerLines}\r\n`);
      },
      fail(e) {
        if (upgraded) return void socket.destroy();
        const body = JSON.stringify({ message: messageOf(e) });
        const status = statusOf(e);
        socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : status === 400 ? 'Bad Request' : 'Internal Server Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headerLines}\r\n${body}`);
      },
    };
    socket.on('error', () => {});
    if (matchError) return conn.fail(matchError);
    if (!route?.hijack || !req) return conn.fail(Object.assign(new Error('page not found'), { kind: 'not-found' }));
    const r = this.request(raw, req);
    try {
      await route.hijack(r, conn);
    } catch (e) {
      this.onError(r, e);
      conn.fail(e);
    }
  }
}
