// The default bridge's subnet: chosen among Docker's pools so that no route
// of the host overlaps it (src/network/subnet.ts, pure over a route list).
import { describe, expect, it } from 'vitest';
import { chooseSubnet, formatCidr, overlaps, parseBip, parseCidr, parseRoutes } from '../../src/network/subnet.js';

const choose = (routes: string, own = 'tsd0') => formatCidr(chooseSubnet(parseRoutes(routes), own));

describe('chooseSubnet', () => {
  it('no routes (a fresh namespace): 172.17.0.0/16', () => {
    expect(choose('')).toBe('172.17.0.0/16');
  });

  it('skips what routes cover: a docker0 on 172.17, a /12 over 172.16-31 moves to 10.0', () => {
    expect(choose('default via 192.0.2.1 dev eth0\n172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1\n')).toBe('172.18.0.0/16');
    expect(choose('172.16.0.0/12 dev vpn0\n')).toBe('10.0.0.0/16');
    expect(choose('172.16.0.0/12 dev vpn0\n10.0.0.0/16 via 192.0.2.1 dev eth0\n')).toBe('10.1.0.0/16');
  });

  it('a smaller route inside a candidate, and a host address (a /32), also collide', () => {
    expect(choose('172.17.5.0/24 dev eth1\n')).toBe('172.18.0.0/16');
    expect(choose('172.17.0.9 dev tun0 scope link\n172.18.0.0/16 dev x\n')).toBe('172.19.0.0/16');
  });

  it('routes on our own bridge (a previous run left it up) do not count; the default route never does', () => {
    expect(choose('default via 172.17.0.1 dev eth0\n172.17.0.0/16 dev tsd0 proto kernel scope link src 172.17.0.1\n')).toBe('172.17.0.0/16');
  });

  it('`ip route show table all` lines with a type first (local, broadcast) are read by their destination', () => {
    expect(choose('local 172.17.0.2 dev eth0 table local proto kernel scope host src 172.17.0.2\nbroadcast 127.255.255.255 dev lo table local\n')).toBe('172.18.0.0/16');
  });

  it('everything taken: refused, naming --bip', () => {
    expect(() => choose('172.16.0.0/12 dev a\n10.0.0.0/8 dev b\n')).toThrow(/--bip/);
  });
});

describe('CIDRs and --bip', () => {
  it('parse, overlap', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ network: 0x0a000000, prefix: 8 });
    expect(parseCidr('10.1.2.3')).toBeUndefined();
    expect(parseCidr('300.1.2.3/8')).toBeUndefined();
    expect(parseCidr('10.1.2.3/33')).toBeUndefined();
    expect(overlaps(parseCidr('10.0.0.0/8')!, parseCidr('10.3.0.0/16')!)).toBe(true);
    expect(overlaps(parseCidr('10.3.0.0/16')!, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(overlaps(parseCidr('10.3.0.0/16')!, parseCidr('10.4.0.0/16')!)).toBe(false);
  });

  it('--bip is the bridge address with the prefix; a network or broadcast address, or no prefix, is refused', () => {
    const b = parseBip('172.20.0.1/16');
    expect([formatCidr(b.subnet), b.gateway]).toEqual(['172.20.0.0/16', 0xac140001]);
    expect(() => parseBip('172.20.0.0/16')).toThrow(/network or broadcast/);
    expect(() => parseBip('172.20.255.255/16')).toThrow(/network or broadcast/);
    expect(() => parseBip('172.20.0.1')).toThrow(/--bip/);
    expect(() => parseBip('172.20.0.1/31')).toThrow(/--bip/);
  });
});
