// A fault-injecting, auth-requiring front for the test registry: a Bearer
// token flow (with its own token endpoint) or Basic auth, a blob cut off
// mid-body once (to test resume), a blob held mid-body until the test lets it
// go (to act while a pull is under way), and a log of what clients asked.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyOptions {
  upstream: string;
  auth?: 'bearer' | 'basic';
  user?: string;
  password?: string;
  /** Cut this blob's first GET after this many bytes. */
  cut?: { digest: string; after: number };
  /** Stop this blob's first GET after this many bytes until release() is called. */
  hold?: { digest: string; after: number };
}

export interface Proxy {
  host: string;
  requests: Array<{ method: string; url: string; range?: string; authorization?: string }>;
  /** Resolves once the held blob has stopped mid-body. */
  holding: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

const TOKEN = 'token-for-tests';

export async function startProxy(o: ProxyOptions): Promise<Proxy> {
  const requests: Proxy['requests'] = [];
  let cutDone = false;
  let holdDone = false;
  let nowHolding!: () => void;
  const holding = new Promise<void>((r) => (nowHolding = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const basicOk = (h?: string) => h === `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method!, url: req.url!, range: req.headers.range, authorization: req.headers.authorization });
    const host = req.headers.host!;
    if (req.url!.startsWith('/token')) {
      if (!basicOk(req.headers.authorization)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN }));
      return;
    }
    if (o.auth === 'bearer' && req.headers.authorization !== `Bearer ${TOKEN}`) {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs)\//.exec(req.url!)?.[1] ?? '';
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test-registry",scope="repository:${repo}:pull"`, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (o.auth === 'basic' && !basicOk(req.headers.authorization)) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const headers = { ...req.headers, host: o.upstream };
    delete headers.authorization;
    const up = request({ host: o.upstream.split(':')[0], port: Number(o.upstream.split(':')[1]), method: req.method, path: req.url, headers }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      if (o.hold && !holdDone && req.url!.endsWith(`/blobs/${o.hold.digest}`) && req.method === 'GET') {
        holdDone = true;
        const chunks: Buffer[] = [];
        ur.on('data', (c: Buffer) => chunks.push(c));
        ur.on('end', async () => {
          const body = Buffer.concat(chunks);
          res.write(body.subarray(0, o.hold!.after));
          nowHolding();
          await released;
          res.end(body.subarray(o.hold!.after));
        });
        return;
      }
      const cutting = o.cut && !cutDone && req.url!.endsWith(`/blobs/${o.cut.digest}`) && req.method === 'GET';
      if (!cutting) {
        ur.pipe(res);
        return;
      }
      cutDone = true;
      let sent = 0;
      ur.on('data', (chunk: Buffer) => {
        if (sent >= o.cut!.after) return;
        const part = chunk.subarray(0, o.cut!.after - sent);
        sent += part.length;
        res.write(part);
        if (sent >= o.cut!.after) setTimeout(() => res.socket?.destroy(), 50);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    holding,
    release,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
