// User-defined networks (docker network create): one record per network at
// <data-root>/network/networks/<id>.json, written atomically and validated
// field by field when read back. The predefined `bridge`, `host` and `none`
// are not records: they are the daemon's (see PREDEFINED). A network's subnet,
// when none is given, is the first of Docker's pools that neither another
// network nor a host route overlaps (pure: chooseNetworkSubnet).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import type { NetworkDescription } from './conflist.js';
import { candidateSubnets, contains, formatCidr, formatIp, lastAddress, overlaps, parseCidr, parseIp, type Cidr, type Route } from './subnet.js';

/** The names Docker reserves: shown by `ls`, never created or removed. */
export const PREDEFINED = ['bridge', 'host', 'none'] as const;

/** A stable ID for a predefined network (dockerd makes a random one per daemon). */
export const predefinedNetworkId = (name: string) => createHash('sha256').update(`tsd predefined network ${name}`).digest('hex');

/** Docker's option for the Linux bridge's name. */
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

export interface NetworkRecord {
  Id: string;
  Name: string;
  Created: string;
  Driver: 'bridge';
  Internal: boolean;
  /** CIDR. */
  Subnet: string;
  Gateway: string;
  IPRange?: string;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  /** The Linux bridge (br-<id12>, or the option's). */
  Bridge: string;
}

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;
const isStringMap = (v: unknown): v is Record<string, string> => !!v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string');

/** A record as read from disk; the first field that is wrong is named. */
export function validateNetworkRecord(v: unknown, id: string): NetworkRecord {
  const bad = (field: string) => new Error(`not a network record: ${field}`);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('want an object');
  const r = v as Record<string, unknown>;
  if (r.Id !== id || !/^[a-f0-9]{64}$/.test(id)) throw bad('Id (want the file name, 64 hex digits)');
  if (typeof r.Name !== 'string' || !VALID_NAME.test(r.Name) || (PREDEFINED as readonly string[]).includes(r.Name)) throw bad('Name');
  if (typeof r.Created !== 'string' || Number.isNaN(Date.parse(r.Created))) throw bad('Created');
  if (r.Driver !== 'bridge') throw bad('Driver');
  if (typeof r.Internal !== 'boolean') throw bad('Internal');
  const subnet = typeof r.Subnet === 'string' ? parseCidr(r.Subnet) : undefined;
  if (!subnet || formatCidr(subnet) !== r.Subnet) throw bad('Subnet');
  const gw = typeof r.Gateway === 'string' ? parseIp(r.Gateway) : undefined;
  if (gw === undefined || !contains(subnet, gw)) throw bad('Gateway');
  if (r.IPRange !== undefined) {
    const range = typeof r.IPRange === 'string' ? parseCidr(r.IPRange) : undefined;
    if (!range || !contains(subnet, range.network) || range.prefix < subnet.prefix) throw bad('IPRange');
  }
  if (!isStringMap(r.Options)) throw bad('Options');
  if (!isStringMap(r.Labels)) throw bad('Labels');
  if (typeof r.Bridge !== 'string' || !IFNAME.test(r.Bridge)) throw bad('Bridge');
  return r as unknown as NetworkRecord;
}

/** Docker's pools past the default bridge's: 172.18-31.0.0/16, then 10.x.0.0/16. */
export function networkCandidates(): Cidr[] {
  return candidateSubnets().filter((c) => formatCidr(c) !== '172.17.0.0/16');
}

/**
 * The first candidate that no taken subnet (other networks, the default
 * bridge's) and no route overlaps; routes on `ownBridges` are tsd's own
 * networks' (already in `taken`) and do not count.
 */
export function chooseNetworkSubnet(routes: Route[], taken: string[], ownBridges: string[]): Cidr {
  const busy = [
    ...taken.map((t) => parseCidr(t)),
    ...routes.filter((r) => r.destination !== 'default' && !(r.dev && ownBridges.includes(r.dev)))
      .map((r) => parseCidr(r.destination.includes('/') ? r.destination : `${r.destination}/32`)),
  ].filter((c): c is Cidr => c !== undefined && c.prefix > 0);
  const free = networkCandidates().find((c) => !busy.some((b) => overlaps(c, b)));
  if (!free) throw new RuntimeError({ kind: 'unavailable', step: 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network' });
  return free;
}

export interface NetworkCreateRequest {
  Name: string;
  Internal?: boolean;
  /** IPAM.Config[0]. */
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  Options?: Record<string, string>;
  Labels?: Record<string, string>;
  CheckDuplicate?: boolean;
}

const invalid = (step: string) => new RuntimeError({ kind: 'invalid-argument', step });

/** The subnet/gateway/range of a request, checked as dockerd checks them (400s naming the value). */
export function addressingOf(req: NetworkCreateRequest, chosen: () => Cidr): { Subnet: string; Gateway: string; IPRange?: string } {
  if ((req.Gateway || req.IPRange) && !req.Subnet) throw invalid('Invalid IPAM configuration: a gateway or an ip range needs a subnet (--subnet)');
  let subnet: Cidr;
  if (req.Subnet) {
    const s = parseCidr(req.Subnet);
    if (!s) throw invalid(`invalid CIDR address: ${req.Subnet}`);
    if (s.prefix > 30) throw invalid(`Invalid subnet ${req.Subnet}: want a prefix of at most /30`);
    subnet = s;
  } else subnet = chosen();
  let gateway = subnet.network + 1;
  if (req.Gateway) {
    const g = parseIp(req.Gateway);
    if (g === undefined) throw invalid(`invalid gateway address ${req.Gateway}`);
    if (!contains(subnet, g) || g === subnet.network || g === lastAddress(subnet)) throw invalid(`Invalid gateway ${req.Gateway}: not a host address of the subnet ${formatCidr(subnet)}`);
    gateway = g;
  }
  let ipRange: string | undefined;
  if (req.IPRange) {
    const r = parseCidr(req.IPRange);
    if (!r) throw invalid(`invalid CIDR address: ${req.IPRange}`);
    if (!contains(subnet, r.network) || r.prefix < subnet.prefix) throw invalid(`Invalid ip range ${req.IPRange}: not inside the subnet ${formatCidr(subnet)}`);
    ipRange = formatCidr(r);
  }
  return { Subnet: formatCidr(subnet), Gateway: formatIp(gateway), ...(ipRange ? { IPRange: ipRange } : {}) };
}

export function describeNetwork(n: NetworkRecord): NetworkDescription {
  const mtu = Number(n.Options['com.docker.network.driver.mtu']);
  return { name: n.Name, bridge: n.Bridge, subnet: n.Subnet, gateway: n.Gateway, staticIps: true, ...(n.IPRange ? { ipRange: n.IPRange } : {}), ...(n.Internal ? { internal: true } : {}), ...(mtu > 0 ? { mtu } : {}) };
}

export class NetworkStore {
  private readonly byId = new Map<string, NetworkRecord>();

  constructor(private readonly dataRoot: string, private readonly onWarning: (m: string) => void) {}

  private dir(): string {
    return join(this.dataRoot, 'network', 'networks');
  }

  /** The records on disk (at daemon start); one that does not validate is skipped with a warning. */
  async load(): Promise<void> {
    for (const f of await readdir(this.dir()).catch(() => [] as string[])) {
      if (!f.endsWith('.json')) continue;
      const id = f.slice(0, -5);
      try {
        this.byId.set(id, validateNetworkRecord(JSON.parse(await readFile(join(this.dir(), f), 'utf8')), id));
      } catch (e) {
        this.onWarning(`skipping the network record ${join(this.dir(), f)}: ${(e as Error).message}`);
      }
    }
  }

  list(): NetworkRecord[] {
    return [...this.byId.values()].sort((a, b) => a.Created.localeCompare(b.Created));
  }

  /** Docker's lookup: full ID, name, then a unique ID prefix; undefined when none. */
  find(ref: string): NetworkRecord | undefined {
    const exact = this.byId.get(ref);
    if (exact) return exact;
    const byName = this.list().find((n) => n.Name === ref);
    if (byName) return byName;
    const hits = /^[a-f0-9]+$/.test(ref) ? this.list().filter((n) => n.Id.startsWith(ref)) : [];
    return hits.length === 1 ? hits[0] : undefined;
  }

  /** A new record; `chosen` picks a free subnet when the request names none. */
  async create(req: NetworkCreateRequest, chosen: (taken: string[], ownBridges: string[]) => Cidr, reserved: string[] = []): Promise<NetworkRecord> {
    if (!VALID_NAME.test(req.Name)) throw invalid(`invalid network name ${JSON.stringify(req.Name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if ((PREDEFINED as readonly string[]).includes(req.Name)) throw new RuntimeError({ kind: 'forbidden', step: `operation is not permitted on predefined ${req.Name} network ` });
    if (this.list().some((n) => n.Name === req.Name)) throw new RuntimeError({ kind: 'exists', step: `network with name ${req.Name} already exists` });
    const others = this.list();
    const addressing = addressingOf(req, () => chosen(others.map((n) => n.Subnet), others.map((n) => n.Bridge)));
    const clash = [...others.map((n) => n.Subnet), ...reserved].find((n) => overlaps(parseCidr(n)!, parseCidr(addressing.Subnet)!));
    if (clash) throw new RuntimeError({ kind: 'invalid-state', step: `Pool overlaps with other one on this address space` });
    const id = randomBytes(32).toString('hex');
    const options = req.Options ?? {};
    const bridge = options[BRIDGE_NAME_OPTION] || `br-${id.slice(0, 12)}`;
    if (!IFNAME.test(bridge)) throw invalid(`${BRIDGE_NAME_OPTION}=${JSON.stringify(bridge)}: want an interface name of 1-15 characters [A-Za-z0-9_.-]`);
    if (others.some((n) => n.Bridge === bridge)) throw new RuntimeError({ kind: 'exists', step: `bridge name ${bridge} is already used by another network` });
    const rec: NetworkRecord = {
      Id: id, Name: req.Name, Created: new Date().toISOString(), Driver: 'bridge', Internal: req.Internal === true,
      ...addressing, Options: options, Labels: req.Labels ?? {}, Bridge: bridge,
    };
    validateNetworkRecord(rec, id);
    await mkdir(this.dir(), { recursive: true, mode: 0o700 });
    await writeFileAtomicAsync(join(this.dir(), `${id}.json`), JSON.stringify(rec));
    this.byId.set(id, rec);
    return rec;
  }

  async remove(id: string): Promise<void> {
    await rm(join(this.dir(), `${id}.json`), { force: true });
    this.byId.delete(id);
  }
}
