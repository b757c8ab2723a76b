// Published ports as data: Docker's ExposedPorts / HostConfig.PortBindings /
// PublishAllPorts turned into what a container asks for, and the mappings it
// got turned back into what the API shows (`docker ps`'s Ports, inspect's
// NetworkSettings.Ports, which `docker port` reads) and into the portmap
// plugin's runtimeConfig. Pure functions, unit-tested; reserving the host
// ports is portReservation.ts.
import { RuntimeError } from '../common/errors.js';

export type Protocol = 'tcp' | 'udp';

/** What one published port asks for. */
export interface PortRequest {
  /** "0.0.0.0" for every address. */
  hostIP: string;
  /** The host ports acceptable, in order: one, a range, or undefined for an ephemeral one. */
  hostPorts?: { first: number; last: number };
  containerPort: number;
  protocol: Protocol;
  /** The request field it came from, for errors: `HostConfig.PortBindings["80/tcp"][0]`. */
  field: string;
}

/** A port that was published: the host side reserved, the container side as asked. */
export interface PortMapping {
  hostIP: string;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

export interface PortBinding {
  HostIp?: string | null;
  HostPort?: string | null;
}

export type PortBindings = Record<string, PortBinding[] | null>;

const ANY_IPV4 = '0.0.0.0';

function invalid(field: string, detail: string): RuntimeError {
  return new RuntimeError({ kind: 'invalid-argument', step: 'publish a port', detail: `${field}: ${detail}` });
}

function portNumber(text: string, field: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(field, `invalid port "${text}"`);
  const n = Number(text);
  if (n < 1 || n > 65535) throw invalid(field, `port ${n} is out of range 1-65535`);
  return n;
}

/** "80/tcp", "53/udp", "8080" (tcp) → port and protocol, as Docker's nat.Port reads a key. */
export function parsePortKey(key: string, field: string): { port: number; protocol: Protocol } {
  const [port, proto = 'tcp', ...rest] = key.split('/');
  if (rest.length) throw invalid(field, `invalid port specification "${key}"`);
  const protocol = proto.toLowerCase();
  if (protocol === 'sctp') throw invalid(field, `"${key}": sctp ports cannot be published here (tcp and udp can)`);
  if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(field, `invalid proto "${proto}" in "${key}"`);
  return { port: portNumber(port, field), protocol };
}

function hostIPOf(ip: string | null | undefined, field: string): string {
  if (!ip) return ANY_IPV4;
  if (ip.includes(':')) throw invalid(`${field}.HostIp`, `"${ip}": IPv6 host addresses are not supported (networks here are IPv4 only)`);
  const octets = ip.split('.');
  if (octets.length !== 4 || octets.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) throw invalid(`${field}.HostIp`, `invalid IP address "${ip}"`);
  return octets.map(Number).join('.');
}

function hostPortsOf(port: string | null | undefined, field: string): PortRequest['hostPorts'] {
  if (!port || port === '0') return undefined;
  const range = /^(\d+)-(\d+)$/.exec(port);
  if (range) {
    const first = portNumber(range[1], `${field}.HostPort`);
    const last = portNumber(range[2], `${field}.HostPort`);
    if (last < first) throw invalid(`${field}.HostPort`, `invalid port range "${port}"`);
    return { first, last };
  }
  const n = portNumber(port, `${field}.HostPort`);
  return { first: n, last: n };
}

/**
 * The ports a container asks to publish: every binding of PortBindings, and with
 * PublishAllPorts (`-P`) an ephemeral host port for each exposed port that has no
 * binding. The order is stable (sorted by container port, then protocol) so a
 * restart asks for the same thing.
 */
export function portRequests(exposed: Record<string, unknown> | null | undefined, bindings: PortBindings | null | undefined, publishAll: boolean): PortRequest[] {
  const out: PortRequest[] = [];
  const bound = new Set<string>();
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const field = `HostConfig.PortBindings[${JSON.stringify(key)}]`;
    const { port, protocol } = parsePortKey(key, field);
    bound.add(`${port}/${protocol}`);
    (list ?? []).forEach((b, i) => {
      out.push({ hostIP: hostIPOf(b?.HostIp, `${field}[${i}]`), hostPorts: hostPortsOf(b?.HostPort, `${field}[${i}]`), containerPort: port, protocol, field: `${field}[${i}]` });
    });
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const field = `Config.ExposedPorts[${JSON.stringify(key)}]`;
      const { port, protocol } = parsePortKey(key, field);
      if (!bound.has(`${port}/${protocol}`)) out.push({ hostIP: ANY_IPV4, containerPort: port, protocol, field });
    }
  }
  return out.sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol));
}

/** Exposed ports plus published ones: "80/tcp" keys, as Docker merges PortBindings into ExposedPorts. */
export function exposedKeys(exposed: Record<string, unknown> | null | undefined, bindings: PortBindings | null | undefined): string[] {
  const keys = new Set<string>();
  for (const key of [...Object.keys(exposed ?? {}), ...Object.keys(bindings ?? {})]) {
    const { port, protocol } = parsePortKey(key, 'Config.ExposedPorts');
    keys.add(`${port}/${protocol}`);
  }
  return [...keys].sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
}

/** `GET /containers/json`'s Ports: one entry per mapping, and a bare one per exposed port without. */
export function psPorts(exposed: string[], mappings: PortMapping[]): { IP?: string; PrivatePort: number; PublicPort?: number; Type: Protocol }[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: Protocol }[] = [];
  for (const key of exposed) {
    const { port, protocol } = parsePortKey(key, 'Config.ExposedPorts');
    const published = mappings.filter((m) => m.containerPort === port && m.protocol === protocol);
    if (published.length === 0) out.push({ PrivatePort: port, Type: protocol });
    for (const m of published) out.push({ IP: m.hostIP, PrivatePort: port, PublicPort: m.hostPort, Type: protocol });
  }
  return out;
}

/** inspect's NetworkSettings.Ports: every exposed port, null when it is not published. */
export function inspectPorts(exposed: string[], mappings: PortMapping[]): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  for (const key of exposed) {
    const { port, protocol } = parsePortKey(key, 'Config.ExposedPorts');
    const published = mappings.filter((m) => m.containerPort === port && m.protocol === protocol);
    out[key] = published.length ? published.map((m) => ({ HostIp: m.hostIP, HostPort: String(m.hostPort) })) : null;
  }
  return out;
}

/** The portmap plugin's `runtimeConfig.portMappings` (CNI CONVENTIONS.md): hostIP left out for every address. */
export function cniPortMappings(mappings: PortMapping[]): { hostPort: number; containerPort: number; protocol: Protocol; hostIP?: string }[] {
  return mappings.map((m) => ({
    hostPort: m.hostPort, containerPort: m.containerPort, protocol: m.protocol,
    ...(m.hostIP === ANY_IPV4 ? {} : { hostIP: m.hostIP }),
  }));
}
