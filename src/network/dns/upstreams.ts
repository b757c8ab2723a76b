// Where a network's name server forwards the names it does not own: the
// host's resolvers from its resolv.conf (tsd runs in the host's network
// namespace, so a loopback resolver such as systemd-resolved's 127.0.0.53
// is reachable from it, unlike from a container), or tsd's --dns servers.
import type { Upstream } from './server.js';

export function upstreamsFromResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && /^\d{1,3}(\.\d{1,3}){3}$/.test(m[1])) out.push({ host: m[1], port: 53 });
  }
  return out;
}
