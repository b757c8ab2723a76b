// Name resolution on user networks (not on the default bridge, as Docker): one
// dns/server.ts instance per user network, bound to the network's gateway
// address on port 53 once its bridge holds that address (after the first
// container's ADD), answering the names of the containers attached to it
// from a NameTable kept here: container name, aliases, short ID, compose
// service (every replica for a shared name). A container on several networks
// asks the server of one of them; that server answers it the names of all of
// its networks (its own network's first), as Docker's per-container resolver
// does. Closed when the network is removed or tsd stops.
import type { DnsServer, NameTable, Upstream } from './dns/server.js';
import { startDnsServer } from './dns/server.js';

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** The names of one network's containers. */
export class NetworkNames implements NameTable {
  private readonly byId = new Map<string, { names: string[]; ip: string }>();

  /** Container `id` answers to `names` (the first one is its PTR name) at `ip`. */
  set(id: string, names: string[], ip: string): void {
    this.byId.set(id, { names: names.map(norm).filter(Boolean), ip });
  }

  delete(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  addresses(name: string): string[] | undefined {
    const n = norm(name);
    const out = [...this.byId.values()].filter((e) => e.names.includes(n)).map((e) => e.ip);
    return out.length ? out : undefined;
  }

  nameOf(ipv4: string): string | undefined {
    for (const e of this.byId.values()) if (e.ip === ipv4) return e.names[0];
    return undefined;
  }

  /** The container at `ipv4` on this network. */
  idAt(ipv4: string): string | undefined {
    for (const [id, e] of this.byId) if (e.ip === ipv4) return id;
    return undefined;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }
}

/** What one network's server answers: its own names, then those of the asking container's other networks. */
export class ScopedNames implements NameTable {
  constructor(private readonly own: NetworkNames, private readonly all: () => Iterable<NetworkNames>) {}

  private others(client: string | undefined): NetworkNames[] {
    const id = client === undefined ? undefined : this.own.idAt(client);
    return id === undefined ? [] : [...this.all()].filter((n) => n !== this.own && n.has(id));
  }

  addresses(name: string, client?: string): string[] | undefined {
    return this.own.addresses(name) ?? this.others(client).map((n) => n.addresses(name)).find((a) => a !== undefined);
  }

  nameOf(ipv4: string, client?: string): string | undefined {
    return this.own.nameOf(ipv4) ?? this.others(client).map((n) => n.nameOf(ipv4)).find((a) => a !== undefined);
  }
}

export interface NetworkDnsOptions {
  /** Where other names go (tsd's --dns, else the host's resolv.conf). */
  upstreams: () => Promise<Upstream[]>;
  onWarning: (message: string) => void;
  /** 53; tests of this class may pick another. */
  port?: number;
}

export class NetworkDns {
  private readonly nets = new Map<string, { names: NetworkNames; server?: Promise<DnsServer | undefined> }>();

  constructor(private readonly o: NetworkDnsOptions) {}

  /** Container `id` joined `network` (whose bridge now holds `gateway`); its server starts with the first one. */
  async attach(network: string, gateway: string, id: string, names: string[], ip: string): Promise<void> {
    let n = this.nets.get(network);
    if (!n) {
      n = { names: new NetworkNames() };
      this.nets.set(network, n);
    }
    n.names.set(id, names, ip);
    if (!n.server) {
      const names = new ScopedNames(n.names, () => [...this.nets.values()].map((x) => x.names));
      n.server = (async () => startDnsServer({ host: gateway, port: this.o.port ?? 53, names, upstreams: await this.o.upstreams(), onWarning: this.o.onWarning }))()
        .catch((e) => {
          this.o.onWarning(`network ${network}: the name server on ${gateway}:53 did not start: ${(e as Error).message}`);
          if (this.nets.get(network)?.server === server) this.nets.get(network)!.server = undefined;
          return undefined;
        });
      const server = n.server;
    }
    await n.server;
  }

  /** Container `id` left `network`, or every network (its names stop answering; the servers stay until their network goes). */
  detach(id: string, network?: string): void {
    for (const [name, n] of this.nets) if (network === undefined || name === network) n.names.delete(id);
  }

  /** Whether `network`'s server listens (tests, inspect). */
  async listening(network: string): Promise<boolean> {
    return (await this.nets.get(network)?.server) !== undefined;
  }

  async closeNetwork(network: string): Promise<void> {
    const n = this.nets.get(network);
    this.nets.delete(network);
    await (await n?.server)?.close();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.nets.keys()].map((k) => this.closeNetwork(k)));
  }
}
