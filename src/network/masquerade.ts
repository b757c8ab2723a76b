// The bridge plugin's masquerade rules of a container, removed when its DEL
// could not: the plugin finds the rules' addresses on the container's
// interface, so a DEL after the interface (or the namespace) went away leaves
// them. They are found by the comment the plugin gives them
// (`name: "<network>" id: "<container id>"`) in the nat table's POSTROUTING
// chain, which jumps to the container's own chain; both go.
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

/** The words of one `iptables -S` line (double quotes with backslash escapes, as iptables prints them). */
export function ruleWords(line: string): string[] {
  const words: string[] = [];
  let cur = '', quoted = false, inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = inWord = true;
    } else if (ch === ' ') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** The POSTROUTING rules (as -D arguments) and chains the bridge plugin made for `containerId` on `network`, from `iptables -t nat -S POSTROUTING`. */
export function masqueradeRulesOf(rulesText: string, network: string, containerId: string): { rules: string[][]; chains: string[] } {
  const comment = `name: "${network}" id: "${containerId}"`;
  const rules: string[][] = [];
  const chains: string[] = [];
  for (const line of rulesText.split('\n')) {
    const w = ruleWords(line.trim());
    if (w[0] !== '-A' || w[1] !== 'POSTROUTING') continue;
    const c = w.indexOf('--comment');
    if (c < 0 || w[c + 1] !== comment) continue;
    rules.push(w.slice(2));
    const j = w.indexOf('-j');
    if (j >= 0 && /^CNI-[0-9a-f]+$/.test(w[j + 1] ?? '')) chains.push(w[j + 1]);
  }
  return { rules, chains };
}

/** Removes what masqueradeRulesOf finds; nothing found, nothing done (one iptables -S). */
export async function sweepMasquerade(network: string, containerId: string): Promise<void> {
  const { rules, chains } = masqueradeRulesOf(await iptables(['-t', 'nat', '-S', 'POSTROUTING']), network, containerId);
  for (const r of rules) await iptables(['-t', 'nat', '-D', 'POSTROUTING', ...r]);
  for (const c of chains) {
    await iptables(['-t', 'nat', '-F', c]);
    await iptables(['-t', 'nat', '-X', c]);
  }
}
