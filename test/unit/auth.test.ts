import { describe, expect, it } from 'vitest';
import { registryAuth } from '../../src/supervisor/docker/auth.js';

const header = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('X-Registry-Auth', () => {
  it('base64url (or base64) JSON AuthConfig; empty is none', () => {
    expect(registryAuth(undefined)).toBeUndefined();
    expect(registryAuth('')).toBeUndefined();
    expect(registryAuth(header({}))).toEqual({});
    expect(registryAuth(header({ username: 'a', password: 'b', serveraddress: 'h:5000' }))).toEqual({ username: 'a', password: 'b', serveraddress: 'h:5000' });
    expect(registryAuth(Buffer.from(JSON.stringify({ username: 'a?>' })).toString('base64'))).toEqual({ username: 'a?>' });
  });

  it('anything else is a 400 naming the header', () => {
    const bad = (v: string) => {
      try {
        registryAuth(v);
      } catch (e) {
        return [(e as { kind?: string }).kind, (e as Error).message];
      }
      return undefined;
    };
    expect(bad('!!')).toEqual(['invalid-argument', 'invalid X-Registry-Auth header: not base64url (RFC 4648 §5)']);
    expect(bad(header('user:pass'))![1]).toMatch(/^invalid X-Registry-Auth header: not JSON: /);
    expect(bad(header([1]))![1]).toBe('invalid X-Registry-Auth header: not a JSON object (an AuthConfig)');
    expect(bad(header({ password: true }))![1]).toBe('invalid X-Registry-Auth header: json: cannot unmarshal bool into Go struct field types.AuthConfig.password of type string');
  });
});
