// Containers' network set-up on the default `bridge` network and user
// networks, over the CNI plugins: a namespace pinned per container at
// <exec-root>/netns/<id>, CNI ADD of loopback and of each network's conflist
// (eth0, eth1, … in the order they were attached: docker network connect adds
// one to a running container), CNI DEL and the unpin when it stops. An
// endpoint (what ADD returned) is recorded per container and network at
// <data-root>/network/endpoints/<id>-<network>.json, so a DEL after a daemon
// restart gets the spec's cached result; host-local records its address
// allocations under <data-root>/network/ipam/<network>/, so they survive a
// restart too. `reconcile` at daemon start tears down what containers that no
// longer run left.
import { spawn } from 'node:child_process';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import { RuntimeError } from '../common/errors.js';
import { addNetworkList, checkNetworkList, delNetworkList, execPlugin, pluginInput, type CniResult, type CniRuntime } from './cni.js';
import { buildConflist, loopbackConfig, type Conflist, type NetworkDescription } from './conflist.js';
import { containerResolvConf, hostsFile, userNetworkResolvConf } from './etcFiles.js';
import { isolateBridge, unisolateBridge } from './isolation.js';
import { ensureMasquerade, removeMasquerade } from './masquerade.js';
import { pinNetns, unpinNetns } from './netns.js';
import { cniPortMappings, type PortMapping } from './ports.js';
import { chooseSubnet, formatCidr, formatIp, parseBip, parseRoutes } from './subnet.js';

export const DEFAULT_NETWORK = 'bridge';
export const DEFAULT_BRIDGE = 'tsd0';
const IFNAME = 'eth0';

export interface NetworkingOptions {
  dataRoot: string;
  execRoot: string;
  /** Docker's --bip: the default bridge's address and prefix; else a free subnet is chosen. */
  bip?: string;
  /** The default network's bridge (default tsd0; `none` is the caller's business). */
  bridge?: string;
  cniPath?: string[];
  onWarning: (message: string) => void;
  /** A user-defined network by name (src/network/networkStore.ts); undefined when there is none. */
  userNetwork?: (name: string) => NetworkDescription | undefined;
}

/** A container's place on a network, as inspect shows it. */
export interface Endpoint {
  network: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  /** The pinned namespace (inspect's SandboxKey). */
  netns: string;
  /** Published ports (portmap's DNAT), as reserved on the host. */
  ports: PortMapping[];
}

interface EndpointRecord {
  containerId: string;
  network: string;
  netns: string;
  ifname: string;
  /** Absent while the ADD runs: a crash then still leaves a record to DEL from. */
  result?: CniResult;
  /** The published ports the ADD was given (portmap's runtimeConfig, the same for DEL and CHECK). */
  portMappings?: PortMapping[];
  /** The address asked for (--ip, as ip/prefix): host-local's `ips` capability. */
  ips?: string[];
}

/** portmap's capability arguments for the record's published ports, host-local's for its asked-for address. */
function capabilityArgs(rec: EndpointRecord): Record<string, unknown> | undefined {
  const args = {
    ...(rec.portMappings?.length ? { portMappings: cniPortMappings(rec.portMappings) } : {}),
    ...(rec.ips?.length ? { ips: rec.ips } : {}),
  };
  return Object.keys(args).length ? args : undefined;
}

/** The container's files at /etc: bind-mounted from `dir`. */
export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export function ipRoutes(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['-4', 'route', 'show', 'table', 'all'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(RuntimeError.fromSystem('list the routes (ip -4 route)', e)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new RuntimeError({ kind: 'system', step: 'list the routes (ip -4 route)', detail: err.trim() }))));
  });
}

function endpointOf(rec: EndpointRecord): Endpoint | undefined {
  const r = rec.result;
  if (!r) return undefined;
  const ifIndex = r.interfaces?.findIndex((i) => i.name === rec.ifname && i.sandbox) ?? -1;
  const ip = r.ips?.find((i) => i.interface === undefined || i.interface === ifIndex) ?? r.ips?.[0];
  if (!ip) return undefined;
  const [address, prefix] = ip.address.split('/');
  return {
    network: rec.network,
    ipAddress: address,
    prefixLen: Number(prefix),
    gateway: ip.gateway ?? '',
    macAddress: (ifIndex >= 0 ? r.interfaces?.[ifIndex]?.mac : undefined) ?? '',
    netns: rec.netns,
    ports: rec.portMappings ?? [],
  };
}

const recordKey = (id: string, network: string) => `${id}/${network}`;
const ifIndex = (ifname: string) => Number(ifname.slice(3));

export class Networking {
  private bridge?: Promise<NetworkDescription>;
  /** `<container ID>/<network>` → its endpoint record (loaded at start, kept in step with the files). */
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** Container ID → the last of its set-up steps queued: an exit's DEL and a removal's never overlap. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Bridges whose isolation rules this daemon run has checked (once each). */
  private readonly isolated = new Map<string, Promise<void>>();

  constructor(private readonly o: NetworkingOptions) {
    // A wrong --bip stops the daemon at start rather than the first container.
    if (o.bip) parseBip(o.bip);
    if (o.bridge !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(o.bridge)) throw new RuntimeError({ kind: 'invalid-argument', step: `--bridge ${JSON.stringify(o.bridge)}: want an interface name of 1-15 characters [A-Za-z0-9_.-], or none` });
  }

  netnsPath(id: string): string {
    return join(this.o.execRoot, 'netns', id);
  }

  private bridgeName(): string {
    return this.o.bridge || DEFAULT_BRIDGE;
  }

  private ipamDir(): string {
    return join(this.o.dataRoot, 'network', 'ipam');
  }

  private endpointFile(id: string, network: string): string {
    return join(this.o.dataRoot, 'network', 'endpoints', `${id}-${network}.json`);
  }

  /** The container's endpoint records, eth0 first. */
  private recordsOf(id: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((r) => r.containerId === id).sort((a, b) => ifIndex(a.ifname) - ifIndex(b.ifname));
  }

  /** The default network: --bip's subnet, else the first of Docker's pools no route of this host overlaps. */
  defaultNetwork(): Promise<NetworkDescription> {
    this.bridge ??= (async () => {
      let subnet, gateway;
      if (this.o.bip) ({ subnet, gateway } = parseBip(this.o.bip));
      else {
        subnet = chooseSubnet(parseRoutes(await ipRoutes()), this.bridgeName());
        gateway = subnet.network + 1;
      }
      return { name: DEFAULT_NETWORK, bridge: this.bridgeName(), subnet: formatCidr(subnet), gateway: formatIp(gateway) };
    })();
    this.bridge.catch(() => (this.bridge = undefined));
    return this.bridge;
  }

  /** The conflist of network `name`: the default one, or a user network's (one ipam dir each, under ipamDir/<name>). */
  /** The conflist of network `name`, for an endpoint record when given: portmap only where it publishes ports. */
  private async conflist(name: string = DEFAULT_NETWORK, rec?: EndpointRecord): Promise<Conflist> {
    return buildConflist(await this.description(name), this.ipamDir(), rec ? { ports: !!rec.portMappings?.length } : {});
  }

  private async description(name: string): Promise<NetworkDescription> {
    if (name === DEFAULT_NETWORK) return this.defaultNetwork();
    const net = this.o.userNetwork?.(name);
    if (!net) throw new RuntimeError({ kind: 'not-found', step: `network ${name} not found` });
    return net;
  }

  /**
   * No forwarding between the network's bridge and tsd's other bridges
   * (isolation.ts) and, unless it is internal, its masquerade rule: checked
   * once per daemon run.
   */
  private isolate(net: NetworkDescription): Promise<void> {
    const bridge = net.bridge;
    let p = this.isolated.get(bridge);
    if (!p) {
      p = (async () => {
        await isolateBridge(bridge);
        if (!net.internal) await ensureMasquerade(net.name, net.subnet, bridge);
      })();
      this.isolated.set(bridge, p);
      p.catch(() => this.isolated.delete(bridge));
    }
    return p;
  }

  /** The containers with an endpoint (or one being set up) on network `name`. */
  endpointsOn(name: string): string[] {
    return [...this.endpoints.values()].filter((r) => r.network === name).map((r) => r.containerId);
  }

  /** After a user network's removal: its bridge (the bridge plugin leaves it up) and its allocations directory. */
  async removeNetworkLeftovers(net: NetworkDescription): Promise<void> {
    this.isolated.delete(net.bridge);
    await unisolateBridge(net.bridge);
    await removeMasquerade(net.name, net.subnet, net.bridge);
    await new Promise<void>((resolve) => {
      const child = spawn('ip', ['link', 'del', net.bridge], { stdio: 'ignore' });
      child.on('error', () => resolve());
      child.on('close', () => resolve()); // absent: no container ever ran on it
    });
    await rm(join(this.ipamDir(), net.name), { recursive: true, force: true });
  }

  /** Runs `step` after the container's steps queued before it. */
  private serial<T>(id: string, step: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(step, step);
    const tail = run.catch(() => {});
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return run;
  }

  /** The container's first endpoint (eth0 while it has one: where its published ports are). */
  endpoint(id: string): Endpoint | undefined {
    for (const rec of this.recordsOf(id)) {
      const ep = endpointOf(rec);
      if (ep) return ep;
    }
    return undefined;
  }

  /** Every endpoint of the container, eth0 first. */
  endpointsOf(id: string): Endpoint[] {
    return this.recordsOf(id).map(endpointOf).filter((e): e is Endpoint => e !== undefined);
  }

  /** The network namespace the runtime joins: made before the container is created. */
  pin(id: string): Promise<string> {
    const path = this.netnsPath(id);
    return this.serial(id, () => pinNetns(path)).then(() => path);
  }

  unpin(id: string): Promise<void> {
    return this.serial(id, () => unpinNetns(this.netnsPath(id)));
  }

  /** Writes the container's /etc files in `dir` (before its first start: no address yet). */
  async writeEtcFiles(dir: string, hostname: string, nameserver?: string, extraHosts: string[] = []): Promise<EtcFiles> {
    const files = { hosts: join(dir, 'hosts'), hostname: join(dir, 'hostname'), resolvConf: join(dir, 'resolv.conf') };
    await writeFile(files.hosts, hostsFile(hostname, undefined, extraHosts));
    await writeFile(files.hostname, `${hostname}\n`);
    await this.writeResolvConf(files.resolvConf, nameserver);
    return files;
  }

  /** resolv.conf naming a user network's name server, else the host's resolvers; written in place (it is bind-mounted). */
  async writeResolvConf(path: string, nameserver?: string): Promise<void> {
    let host = '';
    try {
      host = await readFile('/etc/resolv.conf', 'utf8');
    } catch { /* none: the fallback nameservers */ }
    await writeFile(path, nameserver ? userNetworkResolvConf(host, nameserver) : containerResolvConf(host));
  }

  /**
   * The container joins `network` on its next free interface (eth0 for the
   * first): loopback up with the first, then the conflist's ADD in its pinned
   * namespace. Anything that fails is undone (DEL), so a failed attach leaves
   * no veth, rule or address. `hostsFile` (bind-mounted, so rewritten in
   * place) gets the first endpoint's address.
   */
  attach(id: string, hostname: string, hostsPath?: string, ports: PortMapping[] = [], network: string = DEFAULT_NETWORK, ip?: string, extraHosts: string[] = []): Promise<Endpoint> {
    return this.serial(id, () => this.attachNow(id, hostname, hostsPath, ports, network, ip, extraHosts));
  }

  private async attachNow(id: string, hostname: string, hostsPath: string | undefined, ports: PortMapping[], network: string, ip: string | undefined, extraHosts: string[]): Promise<Endpoint> {
    const desc = await this.description(network);
    const list = buildConflist(desc, this.ipamDir(), { ports: ports.length > 0 });
    if (this.endpoints.has(recordKey(id, list.name))) throw new RuntimeError({ kind: 'forbidden', step: `endpoint for container ${id} already exists in network ${list.name}` });
    await this.isolate(desc);
    const prefix = ((list.plugins[0].ipam as { ranges: Array<Array<{ subnet: string }>> }).ranges[0][0].subnet).split('/')[1];
    const others = this.recordsOf(id);
    const used = new Set(others.map((r) => r.ifname));
    let n = 0;
    while (used.has(`eth${n}`)) n++;
    const ifname = `eth${n}`;
    const rec: EndpointRecord = { containerId: id, network: list.name, netns: this.netnsPath(id), ifname, ...(ports.length ? { portMappings: ports } : {}), ...(ip ? { ips: [`${ip}/${prefix}`] } : {}) };
    const file = this.endpointFile(id, list.name);
    await mkdir(join(this.o.dataRoot, 'network', 'endpoints'), { recursive: true, mode: 0o700 });
    await writeFileAtomicAsync(file, JSON.stringify(rec));
    this.endpoints.set(recordKey(id, list.name), rec);
    const rt: CniRuntime = { containerId: id, netns: rec.netns, ifname, cniPath: this.o.cniPath, capabilityArgs: capabilityArgs(rec) };
    try {
      if (!others.length) await execPlugin('ADD', loopbackConfig(), { ...rt, ifname: 'lo' });
      rec.result = await addNetworkList(list, rt);
      await writeFileAtomicAsync(file, JSON.stringify(rec));
      const ep = endpointOf(rec);
      if (!ep) throw new RuntimeError({ kind: 'system', step: `attach container ${id} to network ${list.name}`, detail: `the CNI result names no address for ${ifname}` });
      if (hostsPath && !others.length) await writeFile(hostsPath, hostsFile(hostname, ep.ipAddress, extraHosts));
      return ep;
    } catch (e) {
      await this.detachNow(id, list.name).catch((d) => this.o.onWarning(`undoing the failed network set-up of ${id} on ${list.name}: ${(d as Error).message}`));
      throw e;
    }
  }

  /** CNI DEL (with the ADD's result) of each of the container's endpoints, or of the one on `network`; nothing to do when not attached. */
  detach(id: string, network?: string): Promise<void> {
    return this.serial(id, async () => {
      if (network !== undefined) return this.detachNow(id, network);
      for (const rec of this.recordsOf(id).reverse()) await this.detachNow(id, rec.network);
    });
  }

  private async detachNow(id: string, network: string): Promise<void> {
    const rec = this.endpoints.get(recordKey(id, network));
    if (!rec) return;
    const list = await this.conflist(rec.network, rec);
    // A namespace already gone (a reboot emptied /run): DEL without one, as the spec allows.
    const netns = await access(rec.netns).then(() => rec.netns, () => '');
    await delNetworkList(list, { containerId: id, netns, ifname: rec.ifname, cniPath: this.o.cniPath, capabilityArgs: capabilityArgs(rec) }, rec.result);
    await rm(this.endpointFile(id, network), { force: true });
    this.endpoints.delete(recordKey(id, network));
  }

  /** The endpoint records on disk, read back into memory (at daemon start, before any exit is handled). */
  async load(): Promise<void> {
    const endpointsDir = join(this.o.dataRoot, 'network', 'endpoints');
    for (const f of await readdir(endpointsDir).catch(() => [] as string[])) {
      const id = f.slice(0, 64);
      try {
        const rec = JSON.parse(await readFile(join(endpointsDir, f), 'utf8')) as EndpointRecord;
        if (rec.containerId !== id || typeof rec.netns !== 'string' || typeof rec.ifname !== 'string' || !/^eth\d+$/.test(rec.ifname) || typeof rec.network !== 'string') throw new Error('not an endpoint record');
        // Before docker network connect, a container had one endpoint, recorded as <id>.json.
        if (f === `${id}.json`) await rename(join(endpointsDir, f), this.endpointFile(id, rec.network));
        else if (f !== `${id}-${rec.network}.json`) throw new Error(`its name is not <container>-<network>.json of the container and network it names (${id}, ${rec.network})`);
        if (rec.portMappings !== undefined && !(Array.isArray(rec.portMappings) && rec.portMappings.every((m) => typeof m?.hostIP === 'string'
          && Number.isInteger(m.hostPort) && Number.isInteger(m.containerPort) && (m.protocol === 'tcp' || m.protocol === 'udp')))) throw new Error('portMappings is not a list of port mappings');
        this.endpoints.set(recordKey(id, rec.network), rec);
      } catch (e) {
        this.o.onWarning(`skipping the endpoint record ${join(endpointsDir, f)}: ${(e as Error).message}`);
      }
    }
  }

  /**
   * At daemon start, after `load` and the containers' recovery: a container
   * that does not run is detached, the pin of one that is neither running nor
   * created is removed, and an address host-local still holds for a container
   * without an endpoint is released (DEL of host-local itself). The networks
   * of running containers are CHECKed afterwards, in the background (~100 ms
   * each, so a daemon with many containers does not wait to listen): a
   * warning when something broke one while the daemon was away.
   */
  async reconcile(state: (id: string) => 'running' | 'created' | 'other' | 'gone'): Promise<void> {
    const warn = (what: string) => (e: unknown) => this.o.onWarning(`reconciling the network of ${what}: ${(e as Error).message}`);
    const running: string[] = [];
    for (const id of new Set([...this.endpoints.values()].map((r) => r.containerId))) {
      if (state(id) === 'running') running.push(id);
      else await this.detach(id).catch(warn(`container ${id}`));
    }
    for (const id of await readdir(join(this.o.execRoot, 'netns')).catch(() => [] as string[])) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      const s = state(id);
      if (s !== 'running' && s !== 'created') await this.unpin(id).catch(warn(`container ${id}`));
    }
    for (const name of await readdir(this.ipamDir()).catch(() => [] as string[])) {
      const list = await this.conflist(name).catch(() => undefined);
      if (list) await this.releaseStrayAllocations(list, warn);
    }
    void (async () => {
      for (const id of running) await this.check(id).catch(warn(`running container ${id}`));
    })();
  }

  /** Addresses host-local holds on `list` for containers without an endpoint (DEL of host-local itself). */
  private async releaseStrayAllocations(list: Conflist, warn: (what: string) => (e: unknown) => void): Promise<void> {
    const bridge = list.plugins[0];
    const allocations = join(this.ipamDir(), list.name);
    for (const f of await readdir(allocations).catch(() => [] as string[])) {
      if (!/^[\d.]+$/.test(f)) continue; // lock, last_reserved_ip.0
      const [owner, ifname] = (await readFile(join(allocations, f), 'utf8').catch(() => '')).split(/\r?\n/);
      if (!owner || this.endpoints.has(recordKey(owner, list.name))) continue;
      // host-local reads its section (ipam) of the bridge's config, as when the bridge delegates to it.
      const ipam = bridge.ipam as { type: string };
      await execPlugin('DEL', { ...pluginInput(list, bridge, undefined), type: ipam.type }, { containerId: owner, netns: '', ifname: ifname || IFNAME, cniPath: this.o.cniPath })
        .catch(warn(`the address ${f} held for ${owner}`));
    }
  }

  /** CHECK of the container's networks against the ADDs' results (in its queue: never during its DEL). */
  check(id: string): Promise<void> {
    return this.serial(id, async () => {
      for (const rec of this.recordsOf(id)) {
        if (!rec.result) continue;
        await checkNetworkList(await this.conflist(rec.network, rec), { containerId: id, netns: rec.netns, ifname: rec.ifname, cniPath: this.o.cniPath, capabilityArgs: capabilityArgs(rec) }, rec.result);
      }
    });
  }
}
