// /networks: docker network create, ls, inspect, rm, prune, as dockerd 20.10
// answers them. User networks are src/network/networkStore.ts's records; the
// predefined bridge, host and none are the daemon's (shown, never removed:
// dockerd's 403). Containers lists the endpoints a network has now.
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { RuntimeError } from '../../common/errors.js';
import { PREDEFINED_NETWORKS as PREDEFINED, predefinedNetworkId as predefinedId, type NetworkRecord } from '../../engine/containers.js';
import { BadRequest } from '../http/errors.js';
import { validateNetworkConnect, validateNetworkCreate, validateNetworkDisconnect } from '../generated/bodyValidators.js';
import { sendJson, type Router } from '../http/router.js';
import { checkBody } from './bodyErrors.js';
import type { Api } from './context.js';
import { parseFilters } from './system.js';

type Maybe<T> = T | null | undefined;
interface ConnectBody {
  Container?: Maybe<string>;
  EndpointConfig?: Maybe<{ IPAMConfig?: Maybe<{ IPv4Address?: Maybe<string>; IPv6Address?: Maybe<string> }>; Links?: Maybe<string[]>; Aliases?: Maybe<string[]> }>;
}
interface CreateBody {
  Name?: Maybe<string>; CheckDuplicate?: Maybe<boolean>; Driver?: Maybe<string>; EnableIPv6?: Maybe<boolean>; Internal?: Maybe<boolean>;
  IPAM?: Maybe<{ Driver?: Maybe<string>; Config?: Maybe<Array<{ Subnet?: Maybe<string>; IPRange?: Maybe<string>; Gateway?: Maybe<string>; AuxiliaryAddresses?: Maybe<Record<string, string>> }>> }>;
  Options?: Maybe<Record<string, string>>; Labels?: Maybe<Record<string, string>>;
}

/** An endpoint's ID: stable for a container on a network. */
export const endpointId = (networkId: string, containerId: string) => createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');

/** What a request names: a predefined network or a user network's record. */
type Found = { kind: 'predefined'; name: (typeof PREDEFINED)[number] } | { kind: 'user'; net: NetworkRecord };

function find(api: Api, ref: string): Found {
  const pre = PREDEFINED.find((n) => n === ref || predefinedId(n) === ref || (ref.length >= 1 && /^[a-f0-9]+$/.test(ref) && predefinedId(n).startsWith(ref)));
  const net = api.containers.networks.find(ref);
  if (net) return { kind: 'user', net };
  if (pre) return { kind: 'predefined', name: pre };
  throw new RuntimeError({ kind: 'not-found', step: `network ${ref} not found` });
}

function containersOf(api: Api, networkId: string, name: string): Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> {
  const out: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> = {};
  for (const { id, name: cname, endpoint: ep } of api.containers.networkEndpoints(name)) {
    out[id] = { Name: cname, EndpointID: endpointId(networkId, id), MacAddress: ep.macAddress, IPv4Address: `${ep.ipAddress}/${ep.prefixLen}`, IPv6Address: '' };
  }
  return out;
}

const common = { Scope: 'local', EnableIPv6: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false };

/** dockerd's network resource (inspect and list). */
async function resource(api: Api, f: Found, withContainers: boolean) {
  if (f.kind === 'user') {
    const n = f.net;
    return {
      Name: n.Name, Id: n.Id, Created: n.Created, ...common, Driver: n.Driver,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: n.Subnet, ...(n.IPRange ? { IPRange: n.IPRange } : {}), Gateway: n.Gateway }] },
      Internal: n.Internal, Containers: withContainers ? containersOf(api, n.Id, n.Name) : {}, Options: n.Options, Labels: n.Labels,
    };
  }
  const id = predefinedId(f.name);
  const base = { Name: f.name, Id: id, Created: '0001-01-01T00:00:00Z', ...common, Internal: false, Containers: {}, Labels: {} };
  if (f.name === 'bridge') {
    const subnet = await api.containers.defaultSubnet().catch(() => undefined);
    const gateway = subnet ? subnet.replace(/\.0\/\d+$/, '.1') : undefined;
    return {
      ...base, Driver: 'bridge',
      IPAM: { Driver: 'default', Options: null, Config: subnet ? [{ Subnet: subnet, Gateway: gateway }] : [] },
      Containers: withContainers ? containersOf(api, id, 'bridge') : {},
      Options: {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.bridge.name': 'tsd0', 'com.docker.network.driver.mtu': '1500',
      },
    };
  }
  return { ...base, Driver: f.name === 'host' ? 'host' : 'null', IPAM: { Driver: 'default', Options: null, Config: [] }, Options: {} };
}

const FILTERS = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'];

function labelMatches(labels: Record<string, string>, wanted: string[] | undefined): boolean {
  return !wanted || wanted.every((l) => {
    const [k, v] = l.split('=', 2);
    return v === undefined ? k in labels : labels[k] === v;
  });
}

function nameMatches(name: string, wanted: string[] | undefined): boolean {
  return !wanted || wanted.some((w) => {
    try {
      return new RegExp(w).test(name);
    } catch {
      return name.includes(w);
    }
  });
}

/** docker network create's body as the store takes it (400s naming what is not supported). */
function parseCreate(raw: unknown) {
  const body = checkBody<CreateBody>(validateNetworkCreate, raw ?? {}, 'NetworkCreateRequest');
  const name = body.Name ?? '';
  if (!name) throw new BadRequest('Name: missing (the network\'s name)');
  if (body.Driver && body.Driver !== 'bridge') throw new RuntimeError({ kind: 'not-found', step: `plugin "${body.Driver}" not found: only the bridge driver is supported` });
  if (body.EnableIPv6) throw new BadRequest('EnableIPv6: IPv6 networks are not supported');
  if (body.IPAM?.Driver && body.IPAM.Driver !== 'default') throw new BadRequest(`IPAM.Driver ${JSON.stringify(body.IPAM.Driver)}: only the default IPAM driver is supported`);
  const configs = body.IPAM?.Config ?? [];
  if (configs.length > 1) throw new BadRequest('IPAM.Config: one subnet per network is supported');
  const c = configs[0] ?? {};
  if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) throw new BadRequest('IPAM.Config.AuxiliaryAddresses: not supported');
  return {
    Name: name, Internal: body.Internal === true,
    ...(c.Subnet ? { Subnet: c.Subnet } : {}), ...(c.Gateway ? { Gateway: c.Gateway } : {}), ...(c.IPRange ? { IPRange: c.IPRange } : {}),
    Options: body.Options ?? {}, Labels: body.Labels ?? {},
  };
}

export function registerNetworks(router: Router, api: Api): void {
  const c = api.containers;

  router.get('/networks', async (req, res: ServerResponse) => {
    const f = parseFilters(req.query.get('filters'));
    for (const k of Object.keys(f)) if (!FILTERS.includes(k)) throw new BadRequest(`Invalid filter '${k}'`);
    const all: Found[] = [...PREDEFINED.map((name) => ({ kind: 'predefined' as const, name })), ...c.networks.list().map((net) => ({ kind: 'user' as const, net }))];
    const out = [];
    for (const x of all) {
      const r = await resource(api, x, false);
      if (!nameMatches(r.Name, f.name)) continue;
      if (f.id && !f.id.some((i) => r.Id.startsWith(i))) continue;
      if (f.driver && !f.driver.includes(r.Driver)) continue;
      if (f.scope && !f.scope.includes('local')) continue;
      if (f.type && !f.type.includes(x.kind === 'user' ? 'custom' : 'builtin')) continue;
      if (!labelMatches(r.Labels, f.label)) continue;
      if (f.dangling && x.kind === 'user' && ['true', '1'].includes(f.dangling[0]) === c.networkEndpoints(x.net.Name).length > 0) continue;
      out.push(r);
    }
    sendJson(res, 200, out);
  });

  router.post('/networks/create', async (req, res) => {
    const net = await c.createNetwork(parseCreate(await req.json()));
    sendJson(res, 201, { Id: net.Id, Warning: '' });
  });

  router.post('/networks/prune', async (req, res) => {
    const f = parseFilters(req.query.get('filters'));
    for (const k of Object.keys(f)) if (!['label', 'label!', 'until'].includes(k)) throw new BadRequest(`Invalid filter '${k}'`);
    const until = f.until?.[0] ? Date.parse(f.until[0]) : undefined;
    const deleted: string[] = [];
    for (const net of c.networks.list()) {
      if (c.networkEndpoints(net.Name).length) continue;
      if (!labelMatches(net.Labels, f.label)) continue;
      if (f['label!'] && f['label!'].some((l) => labelMatches(net.Labels, [l]))) continue;
      if (until !== undefined && !(Date.parse(net.Created) < until)) continue;
      await c.removeNetwork(net.Id);
      deleted.push(net.Name);
    }
    sendJson(res, 200, { NetworksDeleted: deleted });
  });

  router.get('/networks/{id}', async (req, res) => {
    sendJson(res, 200, await resource(api, find(api, req.params.id), true));
  });

  router.post('/networks/{id}/connect', async (req, res) => {
    const body = checkBody<ConnectBody>(validateNetworkConnect, (await req.json()) ?? {}, 'NetworkConnect');
    if (!body.Container) throw new BadRequest('Container: missing (the container to connect)');
    const e = body.EndpointConfig ?? {};
    if (e.IPAMConfig?.IPv6Address) throw new BadRequest('EndpointConfig.IPAMConfig.IPv6Address: IPv6 networks are not supported');
    if (e.Links?.length) throw new BadRequest('EndpointConfig.Links: legacy links are not supported');
    const ip = e.IPAMConfig?.IPv4Address ?? '';
    const aliases = (e.Aliases ?? []).filter(Boolean);
    await c.connectNetwork(body.Container, req.params.id, { ...(ip ? { IPv4Address: ip } : {}), ...(aliases.length ? { Aliases: aliases } : {}) });
    res.writeHead(200).end();
  });

  router.post('/networks/{id}/disconnect', async (req, res) => {
    const body = checkBody<{ Container?: Maybe<string>; Force?: Maybe<boolean> }>(validateNetworkDisconnect, (await req.json()) ?? {}, 'NetworkDisconnect');
    if (!body.Container) throw new BadRequest('Container: missing (the container to disconnect)');
    await c.disconnectNetwork(body.Container, req.params.id, body.Force === true);
    res.writeHead(200).end();
  });

  router.delete('/networks/{id}', async (req, res) => {
    const f = find(api, req.params.id);
    if (f.kind === 'predefined') throw new RuntimeError({ kind: 'forbidden', step: `${f.name} is a pre-defined network and cannot be removed` });
    await c.removeNetwork(f.net.Id);
    res.writeHead(204).end();
  });
}
