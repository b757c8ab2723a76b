// The embedded name server on 127.0.0.1 (a free port): names the network owns,
// forwarding to an upstream (a second instance of the same server, also on
// loopback), SERVFAIL when no upstream answers, TCP, and malformed packets.
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeQuery, parseAnswer, RCODE, TYPE } from '../../src/network/dns/message.js';
import { startDnsServer, type DnsServer, type NameTable } from '../../src/network/dns/server.js';

const table = (names: Record<string, string[]>): NameTable => ({
  addresses: (n) => names[n],
  nameOf: (ip) => Object.entries(names).find(([, ips]) => ips.includes(ip))?.[0],
});

let upstream: DnsServer;
let server: DnsServer;
let lonely: DnsServer;
const names: Record<string, string[]> = { web: ['172.30.0.2'], api: ['172.30.0.3', '172.30.0.4'] };

beforeAll(async () => {
  upstream = await startDnsServer({ host: '127.0.0.1', port: 0, names: table({ 'far.example': ['192.0.2.7'] }), upstreams: [] });
  server = await startDnsServer({ host: '127.0.0.1', port: 0, names: table(names), upstreams: [{ host: '127.0.0.1', port: upstream.port }] });
  // Its only upstream is a closed loopback port: nothing answers.
  lonely = await startDnsServer({ host: '127.0.0.1', port: 0, names: table({}), upstreams: [{ host: '127.0.0.1', port: 9 }], forwardTimeoutMs: 200 });
});

afterAll(async () => {
  await Promise.all([server?.close(), upstream?.close(), lonely?.close()]);
});

function ask(port: number, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => { s.close(); reject(new Error('no answer within 3 s')); }, 3000);
    s.on('message', (m) => { clearTimeout(timer); s.close(); resolve(m); });
    s.send(packet, port, '127.0.0.1');
  });
}

function askTcp(port: number, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    s.on('error', reject);
    s.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(packet.length, 0);
      s.write(Buffer.concat([len, packet]));
    });
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) { s.destroy(); resolve(got.subarray(2, 2 + got.readUInt16BE(0))); }
    });
  });
}

describe('the embedded DNS server', () => {
  it('answers A for its names, every replica, case-insensitively, authoritative', async () => {
    const r = parseAnswer(await ask(server.port, encodeQuery(11, 'API', TYPE.A)));
    expect(r.id).toBe(11);
    expect(r.rcode).toBe(RCODE.NOERROR);
    expect(r.records.map((x) => x.value).sort()).toEqual(['172.30.0.3', '172.30.0.4']);
    expect(r.records.every((x) => x.ttl === 600 && x.name === 'api')).toBe(true);
  });

  it('AAAA for one of its names is an empty NOERROR; PTR gives the name back', async () => {
    const six = parseAnswer(await ask(server.port, encodeQuery(12, 'web', TYPE.AAAA)));
    expect([six.rcode, six.records.length]).toEqual([RCODE.NOERROR, 0]);
    const ptr = parseAnswer(await ask(server.port, encodeQuery(13, '2.0.30.172.in-addr.arpa', TYPE.PTR)));
    expect(ptr.records).toEqual([{ name: '2.0.30.172.in-addr.arpa', type: TYPE.PTR, ttl: 600, value: 'web' }]);
  });

  it('forwards names it does not own to the upstream, over UDP and over TCP', async () => {
    const r = parseAnswer(await ask(server.port, encodeQuery(14, 'far.example', TYPE.A)));
    expect([r.id, r.records.map((x) => x.value)]).toEqual([14, ['192.0.2.7']]);
    const t = parseAnswer(await askTcp(server.port, encodeQuery(15, 'web', TYPE.A)));
    expect(t.records.map((x) => x.value)).toEqual(['172.30.0.2']);
    const tf = parseAnswer(await askTcp(server.port, encodeQuery(16, 'far.example', TYPE.A)));
    expect(tf.records.map((x) => x.value)).toEqual(['192.0.2.7']);
  });

  it('an unknown name nobody upstream knows: SERVFAIL from the last server, the upstream\'s own answer relayed', async () => {
    const r = parseAnswer(await ask(server.port, encodeQuery(17, 'nowhere.example', TYPE.A)));
    // The upstream owns no such name and has no upstream of its own: its SERVFAIL comes back.
    expect([r.id, r.rcode]).toEqual([17, RCODE.SERVFAIL]);
    const lone = parseAnswer(await ask(lonely.port, encodeQuery(18, 'x.example', TYPE.A)));
    expect([lone.id, lone.rcode]).toEqual([18, RCODE.SERVFAIL]);
  });

  it('malformed packets get FORMERR with their id; a 1-byte packet is dropped and the server goes on', async () => {
    const bad = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 9, 0x61]);
    const r = parseAnswer(await ask(server.port, bad));
    expect([r.id, r.rcode]).toEqual([0xabcd, RCODE.FORMERR]);
    await expect(ask(server.port, Buffer.from([1]))).rejects.toThrow(/no answer/);
    expect(parseAnswer(await ask(server.port, encodeQuery(19, 'web', TYPE.A))).records.length).toBe(1);
  }, 10_000);

  it('a name added to the table is answered at once (the engine keeps it current)', async () => {
    names['db'] = ['172.30.0.9'];
    expect(parseAnswer(await ask(server.port, encodeQuery(20, 'db', TYPE.A))).records.map((x) => x.value)).toEqual(['172.30.0.9']);
    delete names['db'];
  });

  it('a question still being forwarded when the server closes is dropped (no send on the closed socket)', async () => {
    // The upstream never answers: the SERVFAIL comes after close().
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const s = await startDnsServer({ host: '127.0.0.1', port: 0, names: table({}), upstreams: [{ host: '127.0.0.1', port: silent.address().port }], forwardTimeoutMs: 100 });
    const c = createSocket('udp4');
    c.send(encodeQuery(7, 'elsewhere.example', TYPE.A), s.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 30));
    await s.close();
    await new Promise((r) => setTimeout(r, 250));
    c.close();
    silent.close();
  });
});

