// What a container on the default bridge network needs from its bundle: the
// runtime joins the namespace the engine pinned (linux.namespaces[network].path)
// and sees the /etc files src/network wrote for it, bind-mounted as Docker does.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import type { Spec } from '../spec/types.js';

/** Network modes that put a container on the default bridge. */
export const onDefaultBridge = (mode: string | undefined) => mode === undefined || mode === '' || mode === 'default' || mode === 'bridge';

/** The bundle's config with the network namespace at `netns` and the /etc files bound over the image's. */
export function withNetwork(spec: Spec, netns: string, files: { hosts: string; hostname: string; resolvConf: string }): Spec {
  const namespaces = (spec.linux?.namespaces ?? []).filter((n) => n.type !== 'network');
  const bind = (source: string, destination: string) => ({ destination, type: 'bind', source, options: ['rbind', 'rprivate', 'rw'] });
  const etc = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];
  return {
    ...spec,
    linux: { ...spec.linux, namespaces: [...namespaces, { type: 'network', path: netns }] },
    mounts: [
      ...(spec.mounts ?? []).filter((m) => !etc.includes(m.destination)),
      bind(files.hosts, '/etc/hosts'),
      bind(files.hostname, '/etc/hostname'),
      bind(files.resolvConf, '/etc/resolv.conf'),
    ],
  };
}

export async function rewriteBundleForNetwork(bundle: string, netns: string, files: { hosts: string; hostname: string; resolvConf: string }): Promise<void> {
  const path = join(bundle, 'config.json');
  const spec = JSON.parse(await readFile(path, 'utf8')) as Spec;
  await writeFileAtomicAsync(path, JSON.stringify(withNetwork(spec, netns, files)));
}
