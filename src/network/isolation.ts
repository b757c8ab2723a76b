// Isolation between tsd's bridge networks, as Docker's DOCKER-ISOLATION-STAGE-1/2:
// a packet that enters from one of tsd's bridges and leaves through another is
// dropped, so a container on network A cannot reach one on network B (the
// bridge plugin turns on forwarding, and the firewall plugin's CNI-FORWARD
// accepts its containers' traffic). The rules sit in tsd's own chains of the
// filter table, reached from FORWARD and from the firewall plugin's CNI-ADMIN
// chain (which that plugin evaluates before its own rules). Each bridge has
// one rule in each stage; the rules are data (isolationRules), applied idempotently.
import { iptables } from './masquerade.js';

export const STAGE1 = 'TSD-ISOLATION-STAGE-1';
export const STAGE2 = 'TSD-ISOLATION-STAGE-2';

/** The rules (chain, then the rule's arguments) that isolate `bridge` from tsd's other bridges. */
export function isolationRules(bridge: string): Array<[string, string[]]> {
  return [
    [STAGE1, ['-i', bridge, '!', '-o', bridge, '-j', STAGE2]],
    [STAGE2, ['-o', bridge, '-j', 'DROP']],
  ];
}

const exists = (table: string[]) => iptables(table).then(() => true, () => false);

async function ensureChain(chain: string): Promise<void> {
  if (!(await exists(['-S', chain]))) await iptables(['-N', chain]).catch(async (e) => {
    if (!(await exists(['-S', chain]))) throw e; // made meanwhile by another caller
  });
}

async function ensureJump(from: string, to: string): Promise<void> {
  if (!(await exists(['-C', from, '-j', to]))) await iptables(['-I', from, '1', '-j', to]);
}

/** The chains, their jumps (FORWARD, CNI-ADMIN) and `bridge`'s rules, each added when missing. */
export async function isolateBridge(bridge: string): Promise<void> {
  await ensureChain(STAGE1);
  await ensureChain(STAGE2);
  await ensureChain('CNI-ADMIN');
  await ensureJump('FORWARD', STAGE1);
  await ensureJump('CNI-ADMIN', STAGE1);
  for (const [chain, rule] of isolationRules(bridge)) {
    if (!(await exists(['-C', chain, ...rule]))) await iptables(['-A', chain, ...rule]);
  }
}

/** `bridge`'s rules removed (the chains stay: the other bridges' rules are there). */
export async function unisolateBridge(bridge: string): Promise<void> {
  for (const [chain, rule] of isolationRules(bridge)) {
    while (await exists(['-C', chain, ...rule])) await iptables(['-D', chain, ...rule]);
  }
}
