// Reserving host ports on 127.0.0.1: a fixed port, an ephemeral one, a range that
// skips a taken port, a taken port refused with nothing left held, and the relay of
// a TCP connection that reaches a held port.
import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservePorts } from '../../src/network/portReservation.js';
import type { PortRequest } from '../../src/network/ports.js';

let taken: Server;
let takenPort: number;
let echo: Server;
let echoPort: number;

const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));

beforeAll(async () => {
  taken = createServer();
  takenPort = await listen(taken);
  echo = createServer((c) => c.pipe(c));
  echoPort = await listen(echo);
});
afterAll(async () => {
  taken.close();
  echo.close();
});

const req = (p: Partial<PortRequest>): PortRequest => ({ hostIP: '127.0.0.1', containerPort: 80, protocol: 'tcp', field: 'HostConfig.PortBindings["80/tcp"][0]', ...p });

const isFree = (port: number) => new Promise<boolean>((r) => {
  const s = createServer();
  s.once('error', () => r(false));
  s.listen(port, '127.0.0.1', () => s.close(() => r(true)));
});

describe('host port reservation', () => {
  it('an ephemeral tcp and udp port, held until release', async () => {
    const res = await reservePorts([req({}), req({ protocol: 'udp', containerPort: 53 })]);
    const [tcp, udp] = res.mappings;
    expect(tcp.hostPort).toBeGreaterThan(1024);
    expect(udp.protocol).toBe('udp');
    expect(await isFree(tcp.hostPort)).toBe(false);
    await res.release();
    expect(await isFree(tcp.hostPort)).toBe(true);
  });

  it('a taken port is refused naming the field, the port and EADDRINUSE, and what was already held is let go', async () => {
    const first = await reservePorts([req({})]);
    const freePort = first.mappings[0].hostPort;
    await first.release();
    await expect(reservePorts([req({ hostPorts: { first: freePort, last: freePort } }), req({ containerPort: 81, hostPorts: { first: takenPort, last: takenPort }, field: 'HostConfig.PortBindings["81/tcp"][0]' })]))
      .rejects.toThrow(`publish 127.0.0.1:${takenPort}/tcp (HostConfig.PortBindings["81/tcp"][0]): bind: EADDRINUSE: port is already allocated`);
    expect(await isFree(freePort)).toBe(true);
  });

  it('a range skips the taken port', async () => {
    const res = await reservePorts([req({ hostPorts: { first: takenPort, last: takenPort + 5 } })]);
    expect(res.mappings[0].hostPort).not.toBe(takenPort);
    await res.release();
  });

  it('a TCP connection reaching a held port is relayed to the container address', async () => {
    const res = await reservePorts([req({})], { relayTo: () => ({ host: '127.0.0.1', port: echoPort }) });
    const got = await new Promise<string>((resolve, reject) => {
      const c = connect(res.mappings[0].hostPort, '127.0.0.1', () => c.end('ping'));
      let data = '';
      c.on('data', (d) => (data += d));
      c.on('end', () => resolve(data));
      c.on('error', reject);
    });
    expect(got).toBe('ping');
    await res.release();
  });
});
