// User network records (validation as read back), the subnet choice across
// networks and host routes, and the addressing of a create request.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressingOf, chooseNetworkSubnet, describeNetwork, NetworkStore, validateNetworkRecord, type NetworkRecord } from '../../src/network/networkStore.js';
import { formatCidr, parseRoutes } from '../../src/network/subnet.js';

const ID = 'a'.repeat(64);
const good: NetworkRecord = { Id: ID, Name: 'app', Created: '2026-01-01T00:00:00.000Z', Driver: 'bridge', Internal: false, Subnet: '10.1.0.0/16', Gateway: '10.1.0.1', Options: {}, Labels: { a: 'b' }, Bridge: 'br-aaaaaaaaaaaa' };

describe('validateNetworkRecord', () => {
  it('takes a good record and names the first bad field', () => {
    expect(validateNetworkRecord(good, ID)).toEqual(good);
    expect(() => validateNetworkRecord(good, 'b'.repeat(64))).toThrow(/Id/);
    expect(() => validateNetworkRecord({ ...good, Name: 'bridge' }, ID)).toThrow(/Name/);
    expect(() => validateNetworkRecord({ ...good, Name: '-x' }, ID)).toThrow(/Name/);
    expect(() => validateNetworkRecord({ ...good, Subnet: '10.1.0.5/16' }, ID)).toThrow(/Subnet/);
    expect(() => validateNetworkRecord({ ...good, Gateway: '10.2.0.1' }, ID)).toThrow(/Gateway/);
    expect(() => validateNetworkRecord({ ...good, IPRange: '10.1.0.0/8' }, ID)).toThrow(/IPRange/);
    expect(() => validateNetworkRecord({ ...good, Labels: { a: 1 } }, ID)).toThrow(/Labels/);
    expect(() => validateNetworkRecord({ ...good, Bridge: 'a-bridge-name-too-long' }, ID)).toThrow(/Bridge/);
    expect(() => validateNetworkRecord([], ID)).toThrow(/object/);
  });
});

describe('chooseNetworkSubnet', () => {
  it('172.18.0.0/16 onwards, past taken subnets and host routes; routes on own bridges do not count', () => {
    expect(formatCidr(chooseNetworkSubnet([], [], []))).toBe('172.18.0.0/16');
    expect(formatCidr(chooseNetworkSubnet([], ['172.17.0.0/16', '172.18.0.0/16'], []))).toBe('172.19.0.0/16');
    const routes = parseRoutes('default via 192.168.1.1 dev eth0\n172.19.0.0/16 dev eth1 proto kernel\n172.18.0.0/16 dev br-1 proto kernel\n172.20.3.4 dev eth2\n');
    expect(formatCidr(chooseNetworkSubnet(routes, ['172.18.0.0/16'], ['br-1']))).toBe('172.21.0.0/16');
    expect(formatCidr(chooseNetworkSubnet(routes, [], ['br-1']))).toBe('172.18.0.0/16');
    expect(() => chooseNetworkSubnet(parseRoutes('0.0.0.0/1 dev x\n128.0.0.0/1 dev y\n'), [], [])).toThrow(/non-overlapping/);
  });
});

describe('addressingOf', () => {
  const chosen = () => ({ network: 0xac120000, prefix: 16 });
  it('the chosen subnet with its first address as gateway; given values checked', () => {
    expect(addressingOf({ Name: 'n' }, chosen)).toEqual({ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' });
    expect(addressingOf({ Name: 'n', Subnet: '10.5.0.0/24', Gateway: '10.5.0.9', IPRange: '10.5.0.128/25' }, chosen)).toEqual({ Subnet: '10.5.0.0/24', Gateway: '10.5.0.9', IPRange: '10.5.0.128/25' });
    expect(() => addressingOf({ Name: 'n', Gateway: '10.5.0.1' }, chosen)).toThrow(/needs a subnet/);
    expect(() => addressingOf({ Name: 'n', Subnet: 'x' }, chosen)).toThrow(/invalid CIDR address: x/);
    expect(() => addressingOf({ Name: 'n', Subnet: '10.5.0.0/24', Gateway: '10.6.0.1' }, chosen)).toThrow(/not a host address/);
    expect(() => addressingOf({ Name: 'n', Subnet: '10.5.0.0/24', IPRange: '10.6.0.0/25' }, chosen)).toThrow(/not inside/);
  });
});

describe('NetworkStore', () => {
  it('creates records on disk, reads them back, skips a bad one with a warning, refuses duplicates and predefined names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netstore-'));
    try {
      const s = new NetworkStore(dir, () => {});
      const pick = () => ({ network: 0xac120000, prefix: 16 });
      const a = await s.create({ Name: 'a', Labels: { x: 'y' }, Options: { 'com.docker.network.driver.mtu': '1400' } }, pick);
      expect(a.Bridge).toBe(`br-${a.Id.slice(0, 12)}`);
      expect(describeNetwork(a)).toEqual({ name: 'a', bridge: a.Bridge, subnet: '172.18.0.0/16', gateway: '172.18.0.1', staticIps: true, mtu: 1400 });
      await expect(s.create({ Name: 'a' }, pick)).rejects.toMatchObject({ kind: 'exists' });
      await expect(s.create({ Name: 'b' }, pick)).rejects.toThrow(/Pool overlaps/);
      await expect(s.create({ Name: 'host' }, pick)).rejects.toMatchObject({ kind: 'forbidden' });
      const file = join(dir, 'network', 'networks', `${a.Id}.json`);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(a);
      writeFileSync(join(dir, 'network', 'networks', `${'c'.repeat(64)}.json`), '{"Id":"nope"}');
      const warnings: string[] = [];
      const again = new NetworkStore(dir, (m) => warnings.push(m));
      await again.load();
      expect(again.list()).toEqual([a]);
      expect(again.find(a.Id.slice(0, 5))).toEqual(a);
      expect(again.find('a')).toEqual(a);
      expect(warnings).toHaveLength(1);
      await again.remove(a.Id);
      expect(again.find('a')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
