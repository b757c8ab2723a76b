// POST /auth (docker login through the daemon) and the X-Registry-Auth header
// (base64url JSON AuthConfig) of a pull: decoded, checked against the AuthConfig
// schema, handed to the engine. A header that is not base64url JSON is the
// client's mistake, a 400 naming the header.
import { BadRequest, messageOf } from '../http/errors.js';
import { sendJson, type Router } from '../http/router.js';
import { validateAuthConfig } from '../generated/bodyValidators.js';
import type { AuthConfig, Images } from '../../engine/images.js';
import { checkBody } from './bodyErrors.js';
import type { Api } from './context.js';

/** The AuthConfig of an X-Registry-Auth header; undefined when there is none. */
export function registryAuth(header: string | string[] | undefined): AuthConfig | undefined {
  const text = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!text) return undefined;
  const bad = (why: string) => new BadRequest(`invalid X-Registry-Auth header: ${why}`);
  if (!/^[A-Za-z0-9_+/-]*={0,2}$/.test(text)) throw bad('not base64url (RFC 4648 §5)');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch (e) {
    throw bad(`not JSON: ${messageOf(e)}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object (an AuthConfig)');
  try {
    return checkBody<AuthConfig>(validateAuthConfig, json, 'types.AuthConfig');
  } catch (e) {
    throw bad(messageOf(e));
  }
}

export function registerAuth(router: Router, api: Api, images: Images): void {
  router.post('/auth', async (req, res) => {
    const auth = checkBody<AuthConfig>(validateAuthConfig, (await req.json()) ?? {}, 'types.AuthConfig');
    sendJson(res, 200, await images.login(auth, api.settings.insecureRegistries));
  });
}
