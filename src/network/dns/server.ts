// The name server of a user network, as Docker embeds one: containers on the
// network ask it (their resolv.conf names it), it answers A and PTR for the
// names the network owns — container names, aliases, short ids, compose
// service names, from a NameTable the engine keeps current — and forwards
// every other question to the host's resolvers. tsd runs it on the event
// loop (UDP and TCP, RFC 1035 4.2): nothing here blocks, a malformed packet
// gets FORMERR, and forwarding is bounded so a flood cannot exhaust fds.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import {
  aRecord, encodeAnswer, encodeError, isStandardQuery, parseQuery, ptrRecord, RCODE, reverseNameToIPv4, TYPE, UDP_LIMIT,
  type Query,
} from './message.js';

/** `client` is the asking address: a container on several networks also resolves the names of its other networks. */
export interface NameTable {
  /** IPv4 addresses `name` has for `client` (every replica), or undefined when no network of the client has such a name. */
  addresses(name: string, client?: string): string[] | undefined;
  /** The name `ipv4` has for `client`, for PTR, or undefined. */
  nameOf(ipv4: string, client?: string): string | undefined;
}

export interface Upstream {
  host: string;
  port: number;
}

export interface DnsServerOptions {
  host: string;
  /** 53 for containers; 0 picks a free port (tests). */
  port: number;
  names: NameTable;
  /** Where other names are asked, in order (the host's resolv.conf, or tsd's --dns). */
  upstreams: Upstream[];
  /** Docker's embedded server answers with TTL 600. */
  ttl?: number;
  forwardTimeoutMs?: number;
  /** Questions being forwarded at once; more are answered SERVFAIL at once. */
  maxForwards?: number;
  onWarning?: (message: string) => void;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;

export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  const ttl = o.ttl ?? 600;
  const timeoutMs = o.forwardTimeoutMs ?? 2_000;
  const maxForwards = o.maxForwards ?? 256;
  let forwarding = 0;
  const tcpClients = new Set<Socket>();
  let closed = false;

  /** Our answer to a question the network owns, else undefined (forward it). */
  const local = (q: Query, limit: number, client: string | undefined): Buffer | undefined => {
    const { name, type } = q.questions[0];
    if (type === TYPE.PTR) {
      const ip = reverseNameToIPv4(name);
      const target = ip === undefined ? undefined : o.names.nameOf(ip, client);
      return target === undefined ? undefined : encodeAnswer(q, { rcode: RCODE.NOERROR, records: [ptrRecord(name, target, ttl)], authoritative: true }, limit);
    }
    if (type !== TYPE.A && type !== TYPE.AAAA && type !== TYPE.ANY) return undefined;
    const addresses = o.names.addresses(name, client);
    if (addresses === undefined) return undefined;
    // The network has no IPv6: AAAA for one of its names is an empty NOERROR, as Docker's.
    const records = type === TYPE.AAAA ? [] : shuffle(addresses).map((ip) => aRecord(name, ip, ttl));
    return encodeAnswer(q, { rcode: RCODE.NOERROR, records, authoritative: true }, limit);
  };

  const answer = async (packet: Buffer, overTcp: boolean, client: string | undefined): Promise<Buffer | undefined> => {
    let q: Query;
    try {
      q = parseQuery(packet);
    } catch {
      return packet.length >= 2 ? encodeError(packet.readUInt16BE(0), RCODE.FORMERR) : undefined;
    }
    if (!isStandardQuery(q)) return encodeError(q.id, RCODE.NOTIMP, q);
    const mine = local(q, overTcp ? 65_535 : UDP_LIMIT, client);
    if (mine) return mine;
    if (forwarding >= maxForwards || o.upstreams.length === 0) return encodeError(q.id, RCODE.SERVFAIL, q);
    forwarding++;
    try {
      for (const up of o.upstreams) {
        const reply = await (overTcp ? forwardTcp : forwardUdp)(packet, q.id, up, timeoutMs).catch(() => undefined);
        if (reply) return reply;
      }
      return encodeError(q.id, RCODE.SERVFAIL, q);
    } finally {
      forwarding--;
    }
  };

  const udp = createSocket('udp4');
  udp.on('message', (packet, from) => {
    // A forwarded answer may come back after close(): then it is dropped (send on a closed socket throws).
    void answer(packet, false, from.address).then((reply) => { if (reply && !closed) udp.send(reply, from.port, from.address); });
  });
  udp.on('error', (e) => o.onWarning?.(`dns ${o.host}:${o.port}: udp: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(o.port, o.host, () => { udp.off('error', reject); resolve(); });
  });
  const port = udp.address().port;

  const tcp: Server = createServer((sock) => {
    tcpClients.add(sock);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('close', () => tcpClients.delete(sock));
    sock.on('error', () => {});
    readFramed(sock, (msg) => {
      void answer(msg, true, sock.remoteAddress?.replace(/^::ffff:/, '')).then((reply) => { if (reply && !sock.destroyed) sock.write(frame(reply)); });
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, o.host, () => { tcp.off('error', reject); resolve(); });
  }).catch((e) => {
    udp.close();
    throw e;
  });

  return {
    host: o.host,
    port,
    async close() {
      closed = true;
      for (const s of tcpClients) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** Each TCP DNS message is preceded by its length in two bytes. */
function readFramed(sock: Socket, onMessage: (msg: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      onMessage(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
    }
  });
}

function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length, 0);
  return Buffer.concat([len, msg]);
}

/** The question relayed as it came (same id) from a socket of its own; the first answer with that id. */
function forwardUdp(packet: Buffer, id: number, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock: UdpSocket = createSocket('udp4');
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (reply) => { if (reply.length >= 2 && reply.readUInt16BE(0) === id) done(reply); });
    sock.send(packet, up.port, up.host, (e) => { if (e) done(undefined); });
  });
}

function forwardTcp(packet: Buffer, id: number, up: Upstream, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: up.host, port: up.port });
    const done = (reply: Buffer | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('connect', () => sock.write(frame(packet)));
    readFramed(sock, (reply) => { if (reply.length >= 2 && reply.readUInt16BE(0) === id) done(Buffer.from(reply)); });
  });
}

/** Replicas in a random order each time, so clients spread over them (Docker shuffles too). */
function shuffle<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
