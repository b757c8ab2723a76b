// Host ports held for a container's published ports while it runs, as
// dockerd's userland proxy holds them: a listening socket per port means no
// other process (nor another container) can take it, a port in use is found
// by the bind itself (EADDRINUSE, before any CNI ADD, so a refused start has
// nothing to undo), and an ephemeral port is the kernel's choice from
// ip_local_port_range. The traffic itself goes through the portmap plugin's
// DNAT; a TCP connection that still reaches the socket (traffic DNAT does not
// catch) is relayed to the container, so 127.0.0.1:PORT works either way. UDP
// sockets only hold their port.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { RuntimeError } from '../common/errors.js';
import type { PortMapping, PortRequest } from './ports.js';

export interface PortReservation {
  readonly mappings: PortMapping[];
  /** Closes every socket (and the connections it relays). */
  release(): Promise<void>;
}

export interface ReserveOptions {
  /** Where a TCP connection that reaches a held port is relayed (the container's address), or undefined to refuse it. */
  relayTo?: (m: PortMapping) => { host: string; port: number } | undefined;
}

type Held = { close(): Promise<void> };

export async function reservePorts(requests: PortRequest[], opts: ReserveOptions = {}): Promise<PortReservation> {
  const held: Held[] = [];
  const mappings: PortMapping[] = [];
  const release = async () => {
    await Promise.all(held.splice(0).map((h) => h.close()));
  };
  try {
    for (const r of requests) {
      const { socket, port } = await reserveOne(r, opts);
      held.push(socket);
      mappings.push({ hostIP: r.hostIP, hostPort: port, containerPort: r.containerPort, protocol: r.protocol });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { mappings, release };
}

async function reserveOne(r: PortRequest, opts: ReserveOptions): Promise<{ socket: Held; port: number }> {
  const candidates = r.hostPorts ? range(r.hostPorts.first, r.hostPorts.last) : [0];
  let last: NodeJS.ErrnoException | undefined;
  for (const port of candidates) {
    try {
      return r.protocol === 'udp' ? await holdUdp(r.hostIP, port) : await holdTcp(r.hostIP, port, () => opts.relayTo?.(mappingOf(r, port)));
    } catch (e) {
      last = e as NodeJS.ErrnoException;
      if (last.code !== 'EADDRINUSE') break;
    }
  }
  const wanted = r.hostPorts ? (r.hostPorts.first === r.hostPorts.last ? `${r.hostPorts.first}` : `${r.hostPorts.first}-${r.hostPorts.last}`) : '(ephemeral)';
  throw new RuntimeError({
    step: `publish ${r.hostIP}:${wanted}/${r.protocol} (${r.field})`,
    syscall: 'bind',
    errno: last?.code,
    detail: last?.code === 'EADDRINUSE' ? 'port is already allocated' : (last?.message ?? 'failed'),
  });
}

function mappingOf(r: PortRequest, hostPort: number): PortMapping {
  return { hostIP: r.hostIP, hostPort, containerPort: r.containerPort, protocol: r.protocol };
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

function holdTcp(host: string, port: number, target: () => { host: string; port: number } | undefined): Promise<{ socket: Held; port: number }> {
  const relayed = new Set<Socket>();
  // Half-open allowed on both sides: a client that sends its request and FIN still gets the answer.
  const server: Server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const to = target();
    if (!to) return client.destroy();
    const upstream = connect({ host: to.host, port: to.port, allowHalfOpen: true });
    relayed.add(client).add(upstream);
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail).on('close', () => relayed.delete(client));
    upstream.on('error', fail).on('close', () => relayed.delete(upstream));
    upstream.on('connect', () => {
      client.pipe(upstream).pipe(client);
      client.resume();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // exclusive: the port is this process's alone, not shared with a cluster worker.
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve({
        port: typeof bound === 'object' && bound ? bound.port : port,
        socket: {
          close: () => new Promise<void>((done) => {
            for (const s of relayed) s.destroy();
            server.close(() => done());
          }),
        },
      });
    });
  });
}

function holdUdp(host: string, port: number): Promise<{ socket: Held; port: number }> {
  const sock: UdpSocket = createSocket({ type: 'udp4', reuseAddr: false });
  return new Promise((resolve, reject) => {
    sock.once('error', (e) => {
      sock.close();
      reject(e);
    });
    sock.bind({ address: host, port, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => {});
      // Datagrams DNAT did not catch are dropped here, not queued without bound.
      sock.on('message', () => {});
      resolve({ port: sock.address().port, socket: { close: () => new Promise<void>((done) => sock.close(() => done())) } });
    });
  });
}
