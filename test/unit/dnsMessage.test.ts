import { describe, expect, it } from 'vitest';
import {
  aRecord, encodeAnswer, encodeError, encodeName, encodeQuery, parseAnswer, parseQuery, ptrRecord, RCODE, reverseNameToIPv4, TYPE,
} from '../../src/network/dns/message.js';
import { upstreamsFromResolvConf } from '../../src/network/dns/upstreams.js';

describe('DNS messages', () => {
  it('a query round-trips: id, RD, the question lower-cased without the dot', () => {
    const q = parseQuery(encodeQuery(0x1234, 'Web.Example.', TYPE.A));
    expect(q).toEqual({ id: 0x1234, flags: 0x0100, opcode: 0, questions: [{ name: 'web.example', type: TYPE.A, class: 1 }] });
  });

  it('an answer carries the id, QR|AA|RA, RD echoed, the question and A records that point at it', () => {
    const q = parseQuery(encodeQuery(7, 'web', TYPE.A));
    const buf = encodeAnswer(q, { rcode: RCODE.NOERROR, records: [aRecord('web', '172.18.0.2', 600), aRecord('web', '172.18.0.3', 600)], authoritative: true });
    expect(buf.readUInt16BE(2)).toBe(0x8000 | 0x0400 | 0x0100 | 0x0080);
    // Each record's name is the 2-byte pointer to byte 12.
    expect(buf.length).toBe(12 + 5 + 4 + 2 * (2 + 10 + 4));
    expect(parseAnswer(buf)).toEqual({ id: 7, rcode: 0, truncated: false, records: [
      { name: 'web', type: TYPE.A, ttl: 600, value: '172.18.0.2' },
      { name: 'web', type: TYPE.A, ttl: 600, value: '172.18.0.3' },
    ] });
  });

  it('PTR names: reverse form to address, and a PTR record decodes', () => {
    expect(reverseNameToIPv4('4.0.17.172.in-addr.arpa')).toBe('172.17.0.4');
    expect(reverseNameToIPv4('4.0.17.300.in-addr.arpa')).toBeUndefined();
    expect(reverseNameToIPv4('example.com')).toBeUndefined();
    const q = parseQuery(encodeQuery(9, '4.0.17.172.in-addr.arpa', TYPE.PTR));
    const buf = encodeAnswer(q, { rcode: 0, records: [ptrRecord(q.questions[0].name, 'web.net1', 600)], authoritative: true });
    expect(parseAnswer(buf).records).toEqual([{ name: '4.0.17.172.in-addr.arpa', type: TYPE.PTR, ttl: 600, value: 'web.net1' }]);
  });

  it('an answer larger than the limit drops the records that do not fit and sets TC', () => {
    const q = parseQuery(encodeQuery(1, 'many', TYPE.A));
    const records = Array.from({ length: 40 }, (_, i) => aRecord('many', `10.0.0.${i + 1}`, 600));
    const r = parseAnswer(encodeAnswer(q, { rcode: 0, records, authoritative: true }, 512));
    expect(r.truncated).toBe(true);
    expect(r.records.length).toBe(Math.floor((512 - 12 - 6 - 4) / 16));
  });

  it('names are followed through compression pointers, and a pointer loop or overrun is refused', () => {
    // Question name "a" at 12, then a second question whose name is a pointer to it.
    const header = Buffer.from([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
    const q1 = Buffer.from([1, 0x61, 0, 0, 1, 0, 1]);
    const q2 = Buffer.from([0xc0, 12, 0, 28, 0, 1]);
    expect(parseQuery(Buffer.concat([header, q1, q2])).questions).toEqual([{ name: 'a', type: 1, class: 1 }, { name: 'a', type: 28, class: 1 }]);
    const loop = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => parseQuery(loop)).toThrow(/compression pointer that does not point back at byte 12/);
    expect(() => parseQuery(Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x61]))).toThrow(/label runs past the end at byte 12/);
    expect(() => parseQuery(Buffer.from([0, 1]))).toThrow(/shorter than its 12-byte header/);
    expect(() => parseQuery(encodeAnswer(parseQuery(encodeQuery(1, 'a', 1)), { rcode: 0, records: [], authoritative: false }))).toThrow(/a response where a query was expected/);
  });

  it('names longer than DNS allows are refused', () => {
    expect(() => encodeName(`${'a'.repeat(64)}.example`)).toThrow(/longer than 63 bytes/);
    expect(() => encodeName(Array.from({ length: 9 }, () => 'a'.repeat(30)).join('.'))).toThrow(/longer than 255 bytes/);
    expect(encodeName('a.bc.')).toEqual(Buffer.from([1, 0x61, 2, 0x62, 0x63, 0]));
  });

  it('an error answer without a parsed query is a bare header with the id', () => {
    expect(encodeError(0xbeef, RCODE.FORMERR)).toEqual(Buffer.from([0xbe, 0xef, 0x80, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]));
  });

  it("the host's resolv.conf gives the upstreams, IPv4 only, loopback kept", () => {
    expect(upstreamsFromResolvConf('# x\nsearch example.com\nnameserver 127.0.0.53\nnameserver ::1\n  nameserver 10.0.0.2 # office\noptions edns0\n'))
      .toEqual([{ host: '127.0.0.53', port: 53 }, { host: '10.0.0.2', port: 53 }]);
  });
});
