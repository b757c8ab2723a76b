// The files a container on a bridge network gets at /etc/hosts, /etc/hostname
// and /etc/resolv.conf (bind-mounted from its directory, as Docker does), as
// text built by pure functions.

/** Docker's /etc/hosts: localhost and the IPv6 names, --add-host's `name:ip` entries, then the container's address with its hostname. */
export function hostsFile(hostname: string, ip?: string, extraHosts: string[] = []): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const e of extraHosts) {
    const i = e.indexOf(':');
    lines.push(`${e.slice(i + 1)}\t${e.slice(0, i)}`);
  }
  if (ip) lines.push(`${ip}\t${hostname}`);
  return lines.join('\n') + '\n';
}

/** Docker's fallback when the host has no nameserver a container can reach. */
const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf for a container on the default bridge, as Docker
 * makes it: nameservers on the host's loopback (127.x, ::1: a local stub
 * resolver the container cannot reach from its own namespace) are dropped,
 * search and options kept; with no nameserver left, Google's public ones.
 */
export function containerResolvConf(hostResolvConf: string): string {
  const kept: string[] = [];
  let nameservers = 0;
  for (const line of hostResolvConf.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m) {
      if (/^127\./.test(m[1]) || m[1] === '::1') continue;
      nameservers++;
    }
    kept.push(line);
  }
  while (kept.length && kept[kept.length - 1].trim() === '') kept.pop();
  if (nameservers === 0) kept.push(...FALLBACK_NAMESERVERS.map((n) => `nameserver ${n}`));
  return kept.join('\n') + '\n';
}

/**
 * The resolv.conf of a container on a user network: tsd's name server on the
 * network's gateway (Docker puts 127.0.0.11 there, behind NAT rules in the
 * container's namespace; the gateway address is the simpler equivalent), with
 * the host's search and options lines.
 */
export function userNetworkResolvConf(hostResolvConf: string, nameserver: string): string {
  const kept = hostResolvConf.split('\n').filter((l) => /^\s*(search|domain|options)\s/.test(l));
  return [`nameserver ${nameserver}`, ...kept].join('\n') + '\n';
}
