// Forwarding for tsd's bridge networks, as Docker's filter rules: isolation
// (DOCKER-ISOLATION-STAGE-1/2: a packet that enters from one of tsd's bridges
// and leaves through another is dropped, so a container on network A cannot
// reach one on network B), then acceptance (a bridge's containers may send
// anywhere and get answers back, whatever FORWARD's policy: DROP when dockerd
// also runs here). One pair of rules per bridge, not per container, so a
// container's start and stop run no iptables; the rules sit in tsd's own
// chains, isolation jumped to first in FORWARD (and from CNI-ADMIN, which the
// firewall plugin of other CNI users evaluates before its own accepts),
// acceptance appended. The rules are data (isolationRules, forwardRules),
// applied idempotently.
import { iptables } from './masquerade.js';

export const STAGE1 = 'TSD-ISOLATION-STAGE-1';
export const STAGE2 = 'TSD-ISOLATION-STAGE-2';
export const FORWARD = 'TSD-FORWARD';

/** The rules (in TSD-FORWARD) that let `bridge`'s containers' traffic through. */
export function forwardRules(bridge: string): string[][] {
  return [
    ['-o', bridge, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT'],
    ['-i', bridge, '-j', 'ACCEPT'],
  ];
}

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
  await ensureChain(FORWARD);
  await ensureChain('CNI-ADMIN');
  await ensureJump('FORWARD', STAGE1);
  await ensureJump('CNI-ADMIN', STAGE1);
  // Appended, so the isolation jump (inserted first) always comes before it.
  if (!(await exists(['-C', 'FORWARD', '-j', FORWARD]))) await iptables(['-A', 'FORWARD', '-j', FORWARD]);
  for (const [chain, rule] of [...isolationRules(bridge), ...forwardRules(bridge).map((r): [string, string[]] => [FORWARD, r])]) {
    if (!(await exists(['-C', chain, ...rule]))) await iptables(['-A', chain, ...rule]);
  }
}

/** `bridge`'s rules removed (the chains stay: the other bridges' rules are there). */
export async function unisolateBridge(bridge: string): Promise<void> {
  for (const [chain, rule] of [...isolationRules(bridge), ...forwardRules(bridge).map((r): [string, string[]] => [FORWARD, r])]) {
    while (await exists(['-C', chain, ...rule])) await iptables(['-D', chain, ...rule]);
  }
}
