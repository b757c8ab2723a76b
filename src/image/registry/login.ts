// A login check (docker login through a daemon): the registry's /v2/ is asked
// with the credentials the way its challenge wants them (Basic, or a Bearer
// token from its realm), and the answer says whether they are good. Nothing is
// stored: the client keeps its credentials and sends them with each pull.
import { RuntimeError } from '../../common/errors.js';
import type { Credentials } from './credentials.js';
import { parseChallenge } from './client.js';

/** Hosts Docker treats as insecure by default: loopback. */
function isLocal(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

async function get(url: string, headers: Record<string, string>): Promise<Response> {
  try {
    return await fetch(url, { headers, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
    // Go's url.Error, as dockerd shows a registry it cannot reach.
    throw new RuntimeError({ kind: 'unavailable', step: `Get ${JSON.stringify(url)}: ${cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? (e as Error).message)}` });
  }
}

/**
 * Resolves when `host` accepts `creds`; otherwise a RuntimeError with dockerd's
 * text (kind invalid-argument: the client's credentials are wrong).
 */
export async function checkLogin(host: string, creds: Credentials, opts: { insecure?: boolean } = {}): Promise<void> {
  const url = `${opts.insecure || isLocal(host) ? 'http' : 'https'}://${host}/v2/`;
  const first = await get(url, {});
  await first.body?.cancel();
  if (first.ok) return;
  if (first.status !== 401) throw new RuntimeError({ kind: 'system', step: `login attempt to ${url} failed with status: ${first.status} ${first.statusText}` });
  const { scheme, params } = parseChallenge(first.headers.get('www-authenticate') ?? '');
  let authorization: string;
  if (scheme === 'bearer' && params.realm) {
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set('service', params.service);
    tokenUrl.searchParams.set('account', creds.username);
    const res = await get(tokenUrl.toString(), { authorization: basic(creds) });
    const text = await res.text();
    if (!res.ok) {
      let details = '';
      try {
        const body = JSON.parse(text) as { details?: string; errors?: Array<{ message?: string }> };
        details = body.details ?? body.errors?.[0]?.message ?? '';
      } catch { /* not JSON */ }
      // docker/distribution's token handler: a 401 is errcode UNAUTHORIZED with the server's details.
      const what = res.status === 401 ? `unauthorized: ${details || 'authentication required'}` : `token endpoint ${tokenUrl} answered ${res.status} ${res.statusText}`;
      throw new RuntimeError({ kind: 'invalid-argument', step: `Get ${JSON.stringify(url)}: ${what}` });
    }
    let token: string | undefined;
    try {
      const body = JSON.parse(text) as { token?: string; access_token?: string };
      token = body.token ?? body.access_token;
    } catch { /* checked below */ }
    if (!token) throw new RuntimeError({ kind: 'system', step: `Get ${JSON.stringify(url)}: the token endpoint ${tokenUrl.origin}${tokenUrl.pathname} answered without a token` });
    authorization = `Bearer ${token}`;
  } else if (scheme === 'basic') {
    authorization = basic(creds);
  } else {
    throw new RuntimeError({ kind: 'system', step: `login attempt to ${url} failed: unknown authentication challenge ${JSON.stringify(first.headers.get('www-authenticate'))}` });
  }
  const again = await get(url, { authorization });
  await again.body?.cancel();
  if (again.ok) return;
  throw new RuntimeError({ kind: 'invalid-argument', step: `login attempt to ${url} failed with status: ${again.status} ${again.statusText}` });
}
