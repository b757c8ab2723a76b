// Outbound masquerade of tsd's networks, and the iptables runner tsd's rules
// share. The bridge plugin's own ipMasq is off: it makes a chain and rules per
// container (~14 iptables runs per start and stop, measured in
// docs/performance.md) and leaves them when a DEL comes after the interface
// went away.
import { spawn } from 'node:child_process';
import { RuntimeError } from '../common/errors.js';

export function iptables(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('iptables', ['--wait', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', (e) => reject(RuntimeError.fromSystem(`iptables ${args.join(' ')}`, e)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new RuntimeError({ kind: 'system', step: `iptables ${args.join(' ')}`, detail: err.trim() }))));
  });
}

/**
 * The one rule that masquerades what a network's containers send out of the
 * host (as Docker's `-s <subnet> ! -o docker0 -j MASQUERADE`), in the nat
 * table's POSTROUTING: one per network, not one per container, so a
 * container's start and stop run no iptables at all for it.
 */
export function masqueradeRule(network: string, subnet: string, bridge: string): string[] {
  return ['-s', subnet, '!', '-o', bridge, '-m', 'comment', '--comment', `tsd network ${network}`, '-j', 'MASQUERADE'];
}

const present = (rule: string[]) => iptables(['-t', 'nat', '-C', 'POSTROUTING', ...rule]).then(() => true, () => false);

/** Adds the network's rule when missing. */
export async function ensureMasquerade(network: string, subnet: string, bridge: string): Promise<void> {
  const rule = masqueradeRule(network, subnet, bridge);
  if (!(await present(rule))) await iptables(['-t', 'nat', '-A', 'POSTROUTING', ...rule]);
}

/** Removes the network's rule (every copy). */
export async function removeMasquerade(network: string, subnet: string, bridge: string): Promise<void> {
  const rule = masqueradeRule(network, subnet, bridge);
  while (await present(rule)) await iptables(['-t', 'nat', '-D', 'POSTROUTING', ...rule]);
}
