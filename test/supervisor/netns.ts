// The network namespace a network test runs tsd in: `ip netns add`, tsd
// started through `nsenter --net=` (not `ip netns exec`, which remounts /sys),
// so its bridges, veths and iptables rules stay there and no traffic leaves
// this machine. The image is pulled before tsd moves in (the registry listens
// on the host's 127.0.0.1). `leftovers` lists what tsd's networks left.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startTsd, type Tsd } from './tsd.js';

export class TestNetns {
  readonly name = `tsdtest-${randomBytes(4).toString('hex')}`;
  readonly path = `/var/run/netns/${this.name}`;
  /** Every container ID and address a test used: none may stay in an iptables rule. */
  readonly seen: string[] = [];

  /** tsd (with `extra` flags and the default network) in a new namespace, with `image` pulled. */
  async startTsd(extra: string[], image: string): Promise<Tsd> {
    const t = await startTsd(extra, { network: true });
    const pulled = await t.docker(['pull', image]);
    if (pulled.code !== 0) throw new Error(`pull ${image}: ${pulled.stderr}`);
    await t.stop();
    execFileSync('ip', ['netns', 'add', this.name]);
    execFileSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
    await t.restart({ prefix: this.prefix() });
    return t;
  }

  /** What runs a command (tsd) in the namespace. */
  prefix(): string[] {
    return ['nsenter', `--net=${this.path}`];
  }

  run(cmd: string, args: string[]): string {
    return execFileSync('nsenter', [`--net=${this.path}`, cmd, ...args], { encoding: 'utf8' });
  }

  /** What tsd's networks left: veths, bridges of user networks, pins, endpoints, allocations, network records, rules. */
  leftovers(t: Tsd): string[] {
    const out: string[] = [];
    for (const l of this.run('ip', ['-o', 'link', 'show']).split('\n')) {
      if (/^\d+: veth/.test(l)) out.push(`veth ${l.split(':')[1].trim()}`);
      if (/^\d+: (br-|tsdnet)/.test(l)) out.push(`bridge ${l.split(':')[1].trim()}`);
    }
    const pins = join(t.execRoot, 'netns');
    if (existsSync(pins)) for (const e of readdirSync(pins)) out.push(`netns pin ${e}`);
    const endpoints = join(t.dataRoot, 'network', 'endpoints');
    if (existsSync(endpoints)) for (const e of readdirSync(endpoints)) out.push(`endpoint ${e}`);
    const ipam = join(t.dataRoot, 'network', 'ipam');
    if (existsSync(ipam)) for (const n of readdirSync(ipam)) {
      if (n !== 'bridge') out.push(`ipam dir ${n}`);
      for (const e of readdirSync(join(ipam, n))) if (/^[\d.]+$/.test(e)) out.push(`allocation ${n}/${e}`);
    }
    const records = join(t.dataRoot, 'network', 'networks');
    if (existsSync(records)) for (const e of readdirSync(records)) out.push(`network record ${e}`);
    const rules = this.run('iptables-save', []);
    for (const s of this.seen) if (rules.includes(s)) out.push(`iptables rule naming ${s}`);
    return out;
  }

  /** After the tsd closed: pins a broken tsd left (they would keep its temp dir busy), its temp dir, the namespace. */
  destroy(t: Tsd | undefined): void {
    if (t) {
      const pins = join(t.execRoot, 'netns');
      if (existsSync(pins)) for (const e of readdirSync(pins)) {
        try {
          execFileSync('umount', ['--lazy', join(pins, e)], { stdio: 'ignore' });
        } catch { /* not mounted */ }
      }
      rmSync(t.dir, { recursive: true, force: true });
    }
    if (existsSync(this.path)) execFileSync('ip', ['netns', 'del', this.name]);
  }
}
