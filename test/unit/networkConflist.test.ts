// The CNI conflist of a network, as data (src/network/conflist.ts).
import { describe, expect, it } from 'vitest';
import { buildConflist, loopbackConfig } from '../../src/network/conflist.js';

const BRIDGE = { name: 'bridge', bridge: 'tsd0', subnet: '172.17.0.0/16', gateway: '172.17.0.1' };

describe('buildConflist', () => {
  it('the default bridge: bridge + host-local (subnet, gateway, default route, the data dir), portmap; no firewall plugin (isolation.ts holds the per-bridge rules)', () => {
    expect(buildConflist(BRIDGE, '/var/lib/tsrun/network/ipam')).toEqual({
      cniVersion: '1.0.0',
      name: 'bridge',
      plugins: [
        {
          type: 'bridge', bridge: 'tsd0', isGateway: true, ipMasq: false, hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '172.17.0.0/16', gateway: '172.17.0.1' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: '/var/lib/tsrun/network/ipam',
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });

  it('an ip range becomes host-local rangeStart/rangeEnd (network and broadcast of the range excluded); mtu goes to the bridge', () => {
    const list = buildConflist({ ...BRIDGE, name: 'n1', bridge: 'br-n1', subnet: '10.5.0.0/16', gateway: '10.5.0.1', ipRange: '10.5.8.0/24', mtu: 1400 }, '/d');
    const bridge = list.plugins[0] as Record<string, unknown> & { ipam: { ranges: unknown } };
    expect(bridge.mtu).toBe(1400);
    expect(bridge.ipam.ranges).toEqual([[{ subnet: '10.5.0.0/16', gateway: '10.5.0.1', rangeStart: '10.5.8.1', rangeEnd: '10.5.8.254' }]]);
  });

  it('host bits in the subnet are masked off', () => {
    const bridge = buildConflist({ ...BRIDGE, subnet: '172.18.3.4/16', gateway: '172.18.0.1' }, '/d').plugins[0] as { ipam: { ranges: { subnet: string }[][] } };
    expect(bridge.ipam.ranges[0][0].subnet).toBe('172.18.0.0/16');
  });

  it('internal: no gateway on the bridge, no masquerade, no default route', () => {
    const bridge = buildConflist({ ...BRIDGE, internal: true }, '/d').plugins[0] as Record<string, unknown> & { ipam: { routes: unknown } };
    expect([bridge.isGateway, bridge.ipMasq, bridge.ipam.routes]).toEqual([false, false, []]);
  });

  it('portmap only for an endpoint that publishes ports (the default, without an endpoint, has it)', () => {
    expect(buildConflist(BRIDGE, '/d', { ports: false }).plugins.map((p) => p.type)).toEqual(['bridge']);
    expect(buildConflist(BRIDGE, '/d', { ports: true }).plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
  });

  it('a subnet or range that is no CIDR is refused', () => {
    expect(() => buildConflist({ ...BRIDGE, subnet: '172.17.0.0' }, '/d')).toThrow(/not a CIDR/);
    expect(() => buildConflist({ ...BRIDGE, ipRange: 'x/24' }, '/d')).toThrow(/not a CIDR/);
  });

  it('loopback is a call of its own', () => {
    expect(loopbackConfig()).toEqual({ cniVersion: '1.0.0', name: 'loopback', type: 'loopback' });
  });
});
