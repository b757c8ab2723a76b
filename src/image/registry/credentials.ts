// Registry credentials from the files docker and podman write:
// { "auths": { "host": { "auth": base64("user:pass") } } }.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Credentials {
  username: string;
  password: string;
}

/** Where credentials are looked up, first that exists wins. */
export function authFileCandidates(explicit?: string): string[] {
  if (explicit) return [explicit];
  const c: string[] = [];
  if (process.env.REGISTRY_AUTH_FILE) c.push(process.env.REGISTRY_AUTH_FILE);
  if (process.env.XDG_RUNTIME_DIR) c.push(join(process.env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  c.push(join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'));
  return c;
}

export function findCredentials(registry: string, authFile?: string): Credentials | undefined {
  const keys = registry === 'docker.io' ? ['docker.io', 'https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io'] : [registry, `https://${registry}`, `http://${registry}`];
  for (const file of authFileCandidates(authFile)) {
    let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      if (authFile && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read credentials file ${file}: ${(e as Error).message}`);
      continue;
    }
    for (const k of keys) {
      const entry = doc.auths?.[k] ?? doc.auths?.[`${k}/`];
      if (!entry) continue;
      if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
      if (entry.auth) {
        const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = plain.indexOf(':');
        if (colon > 0) return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
      }
    }
  }
  return undefined;
}
