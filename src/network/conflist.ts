// A network's CNI configuration list, built as data (CNI spec 1.0.0): the
// bridge plugin with host-local IPAM, portmap (for published ports, through
// its portMappings capability) and firewall (per-container FORWARD rules).
// The loopback interface is not part of the list: it is brought up by its
// own plugin call (loopbackConfig), as every runtime does.
import { formatCidr, formatIp, lastAddress, parseCidr, type Cidr } from './subnet.js';

export const CNI_VERSION = '1.0.0';

/** What a network is, as the user (or the daemon, for `bridge`) described it. */
export interface NetworkDescription {
  name: string;
  /** The Linux bridge's name (tsd0 for the default network). */
  bridge: string;
  /** CIDR, e.g. 172.17.0.0/16. */
  subnet: string;
  /** The bridge's address, e.g. 172.17.0.1. */
  gateway: string;
  /** A CIDR inside the subnet that addresses are handed out from (Docker's --ip-range). */
  ipRange?: string;
  /** No way out of the network: no default route, no masquerade. */
  internal?: boolean;
  mtu?: number;
  /** Addresses may be asked for (--ip): host-local's `ips` capability, through the bridge plugin. */
  staticIps?: boolean;
}

export interface PluginConfig {
  type: string;
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
}

/** The first and last address host-local may hand out of `range` (network and broadcast excluded). */
function rangeBounds(range: Cidr): { rangeStart: string; rangeEnd: string } {
  return { rangeStart: formatIp(range.network + 1), rangeEnd: formatIp(lastAddress(range) - 1) };
}

/**
 * The conflist of `net`. `ipamDataDir` is where host-local records its
 * allocations (one file per address, named by it, holding the container ID):
 * under the data root, so they survive a daemon restart and an address is
 * never handed out twice.
 */
export function buildConflist(net: NetworkDescription, ipamDataDir: string, opts: { ports?: boolean } = {}): Conflist {
  const subnet = parseCidr(net.subnet);
  if (!subnet) throw new Error(`network ${net.name}: subnet ${JSON.stringify(net.subnet)} is not a CIDR`);
  const range: Record<string, string> = { subnet: formatCidr(subnet), gateway: net.gateway };
  if (net.ipRange) {
    const r = parseCidr(net.ipRange);
    if (!r) throw new Error(`network ${net.name}: ip range ${JSON.stringify(net.ipRange)} is not a CIDR`);
    Object.assign(range, rangeBounds(r));
  }
  const bridge: PluginConfig = {
    type: 'bridge',
    ...(net.staticIps ? { capabilities: { ips: true } } : {}),
    bridge: net.bridge,
    // The bridge holds the gateway address; an internal network's containers get no route through it.
    isGateway: !net.internal,
    // One rule per network instead (masquerade.ts).
    ipMasq: false,
    hairpinMode: true,
    ...(net.mtu ? { mtu: net.mtu } : {}),
    ipam: {
      type: 'host-local',
      ranges: [[range]],
      routes: net.internal ? [] : [{ dst: '0.0.0.0/0' }],
      dataDir: ipamDataDir,
    },
  };
  return {
    cniVersion: CNI_VERSION,
    name: net.name,
    plugins: [
      bridge,
      // Only for an endpoint that publishes ports (its record says so, so DEL and CHECK get the same list).
      ...(opts.ports === false ? [] : [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }]),
      // No firewall plugin: its per-container FORWARD rules (~10 iptables runs per start and
      // stop) are one pair of rules per bridge in isolation.ts, as Docker's.
    ],
  };
}

/** The config of the loopback plugin's call (CNI_IFNAME=lo). */
export function loopbackConfig(): Conflist['plugins'][number] & { cniVersion: string; name: string } {
  return { cniVersion: CNI_VERSION, name: 'loopback', type: 'loopback' };
}
