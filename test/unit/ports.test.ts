import { describe, expect, it } from 'vitest';
import { cniPortMappings, exposedKeys, inspectPorts, portRequests, psPorts, type PortMapping } from '../../src/network/ports.js';

describe('published ports as data', () => {
  it('-p 127.0.0.1:18080:80 -p 53:53/udp -p 8000-8010:81 -p 90: requests in container-port order, each naming its field', () => {
    const r = portRequests({ '80/tcp': {} }, {
      '90/tcp': [{ HostIp: '', HostPort: '' }],
      '81/tcp': [{ HostIp: '', HostPort: '8000-8010' }],
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '53/udp': [{ HostPort: '53' }],
    }, false);
    expect(r).toEqual([
      { hostIP: '0.0.0.0', hostPorts: { first: 53, last: 53 }, containerPort: 53, protocol: 'udp', field: 'HostConfig.PortBindings["53/udp"][0]' },
      { hostIP: '127.0.0.1', hostPorts: { first: 18080, last: 18080 }, containerPort: 80, protocol: 'tcp', field: 'HostConfig.PortBindings["80/tcp"][0]' },
      { hostIP: '0.0.0.0', hostPorts: { first: 8000, last: 8010 }, containerPort: 81, protocol: 'tcp', field: 'HostConfig.PortBindings["81/tcp"][0]' },
      { hostIP: '0.0.0.0', hostPorts: undefined, containerPort: 90, protocol: 'tcp', field: 'HostConfig.PortBindings["90/tcp"][0]' },
    ]);
  });

  it('-P publishes every exposed port without a binding on an ephemeral port', () => {
    const r = portRequests({ '80/tcp': {}, '443/tcp': {}, '53/udp': {} }, { '80/tcp': [{ HostPort: '8080' }] }, true);
    expect(r.map((x) => [x.containerPort, x.protocol, x.hostPorts?.first])).toEqual([[53, 'udp', undefined], [80, 'tcp', 8080], [443, 'tcp', undefined]]);
    expect(portRequests({ '80/tcp': {} }, {}, false)).toEqual([]);
  });

  it('bad input names the field', () => {
    expect(() => portRequests({}, { '80/tcp': [{ HostPort: '70000' }] }, false)).toThrow(/HostConfig.PortBindings\["80\/tcp"\]\[0\].HostPort: port 70000 is out of range/);
    expect(() => portRequests({}, { '80/tcp': [{ HostPort: '9-3' }] }, false)).toThrow(/invalid port range "9-3"/);
    expect(() => portRequests({}, { '80/tcp': [{ HostIp: '::1', HostPort: '1' }] }, false)).toThrow(/HostIp: "::1": IPv6 host addresses are not supported/);
    expect(() => portRequests({}, { '80/tcp': [{ HostIp: '1.2.3', HostPort: '1' }] }, false)).toThrow(/invalid IP address "1.2.3"/);
    expect(() => portRequests({}, { '80/xyz': [] }, false)).toThrow(/invalid proto "xyz"/);
    expect(() => portRequests({}, { '80/sctp': [] }, false)).toThrow(/sctp ports cannot be published here/);
    expect(() => portRequests({ 'http/tcp': {} }, {}, true)).toThrow(/Config.ExposedPorts\["http\/tcp"\]: invalid port "http"/);
  });

  const mappings: PortMapping[] = [
    { hostIP: '127.0.0.1', hostPort: 18080, containerPort: 80, protocol: 'tcp' },
    { hostIP: '0.0.0.0', hostPort: 49153, containerPort: 53, protocol: 'udp' },
  ];
  const exposed = exposedKeys({ '443/tcp': {} }, { '80/tcp': [], '53/udp': [] });

  it('exposed ports include the published ones, sorted', () => {
    expect(exposed).toEqual(['53/udp', '80/tcp', '443/tcp']);
  });

  it("docker ps's Ports and inspect's NetworkSettings.Ports", () => {
    expect(psPorts(exposed, mappings)).toEqual([
      { IP: '0.0.0.0', PrivatePort: 53, PublicPort: 49153, Type: 'udp' },
      { IP: '127.0.0.1', PrivatePort: 80, PublicPort: 18080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
    ]);
    expect(inspectPorts(exposed, mappings)).toEqual({
      '53/udp': [{ HostIp: '0.0.0.0', HostPort: '49153' }],
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '443/tcp': null,
    });
  });

  it("portmap's runtimeConfig leaves hostIP out for every address", () => {
    expect(cniPortMappings(mappings)).toEqual([
      { hostPort: 18080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' },
      { hostPort: 49153, containerPort: 53, protocol: 'udp' },
    ]);
  });
});
