// IPv4 subnets as data: parsing CIDRs, the overlap test, and the choice of the
// default bridge's subnet among Docker's pools so that it does not collide
// with a route the host already has (pure functions over a route list).
import { RuntimeError } from '../common/errors.js';

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
}

export function parseIp(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** `a.b.c.d/n` (host bits allowed: they are masked off); undefined when not one. */
export function parseCidr(text: string): Cidr | undefined {
  const [ip, p, extra] = text.split('/');
  if (extra !== undefined || p === undefined || !/^\d{1,2}$/.test(p) || Number(p) > 32) return undefined;
  const n = parseIp(ip);
  if (n === undefined) return undefined;
  const prefix = Number(p);
  return { network: (n & maskOf(prefix)) >>> 0, prefix };
}

export const formatCidr = (c: Cidr) => `${formatIp(c.network)}/${c.prefix}`;

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & maskOf(c.prefix)) >>> 0) === c.network;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.network) || contains(b, a.network);
}

/** The last address of a subnet (its broadcast). */
export const lastAddress = (c: Cidr) => (c.network | (~maskOf(c.prefix) >>> 0)) >>> 0;

export interface Route {
  /** `default`, or a CIDR (a bare address is a /32). */
  destination: string;
  dev?: string;
}

/** The lines of `ip -4 route show` (any table) as routes. */
export function parseRoutes(text: string): Route[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const words = l.split(/\s+/);
    // `local 127.0.0.0/8 dev lo ...`, `broadcast ...`, `unreachable ...`: the type comes first.
    const destination = ['local', 'broadcast', 'unreachable', 'blackhole', 'prohibit', 'throw', 'unicast', 'multicast', 'anycast', 'nat'].includes(words[0]) ? words[1] : words[0];
    const dev = words.indexOf('dev');
    return { destination, dev: dev >= 0 ? words[dev + 1] : undefined };
  });
}

/** Docker's default pools for its bridge: 172.17-31.0.0/16, then (ours) 10.0-255.0.0/16. */
export function candidateSubnets(): Cidr[] {
  const out: Cidr[] = [];
  for (let b = 17; b <= 31; b++) out.push({ network: parseIp(`172.${b}.0.0`)!, prefix: 16 });
  for (let b = 0; b <= 255; b++) out.push({ network: parseIp(`10.${b}.0.0`)!, prefix: 16 });
  return out;
}

/**
 * The first candidate no route overlaps. Routes on `ownBridge` are ours (a tsd
 * that ran before left its bridge up) and do not count; the default route
 * and routes that are not CIDRs are ignored.
 */
export function chooseSubnet(routes: Route[], ownBridge: string): Cidr {
  const taken = routes
    .filter((r) => r.dev !== ownBridge && r.destination !== 'default')
    .map((r) => parseCidr(r.destination.includes('/') ? r.destination : `${r.destination}/32`))
    .filter((c): c is Cidr => c !== undefined && c.prefix > 0);
  const free = candidateSubnets().find((c) => !taken.some((t) => overlaps(c, t)));
  if (!free) throw new RuntimeError({ kind: 'unavailable', step: 'choose a subnet for the default bridge: every candidate (172.17-31.0.0/16, 10.0-255.0.0/16) overlaps a route of this host; set one with --bip' });
  return free;
}

/** Docker's --bip: the bridge's address with the subnet's prefix (172.20.0.1/16). */
export function parseBip(bip: string): { subnet: Cidr; gateway: number } {
  const [ip] = bip.split('/');
  const subnet = parseCidr(bip);
  const gateway = parseIp(ip ?? '');
  if (!subnet || gateway === undefined || subnet.prefix > 30) {
    throw new RuntimeError({ kind: 'invalid-argument', step: `--bip ${JSON.stringify(bip)}: want the bridge's address with a prefix of at most /30, as 172.20.0.1/16` });
  }
  if (gateway === subnet.network || gateway === lastAddress(subnet)) {
    throw new RuntimeError({ kind: 'invalid-argument', step: `--bip ${JSON.stringify(bip)}: the address is the subnet's network or broadcast address; give a host address, as ${formatIp(subnet.network + 1)}/${subnet.prefix}` });
  }
  return { subnet, gateway };
}
