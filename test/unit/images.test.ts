import { describe, expect, it } from 'vitest';
import { credentialsOf, dockerPullError, isSingleReference, timestampOf } from '../../src/engine/images.js';
import type { ImageRecord } from '../../src/engine/engine.js';

const rec = (name: string): ImageRecord => ({ name, target: { mediaType: '', digest: 'sha256:aa', size: 1 }, manifest: { mediaType: '', digest: 'sha256:aa', size: 1 }, config: 'sha256:bb', updated: '' });
const D = `sha256:${'a'.repeat(64)}`;

describe('engine images: dockerd\'s rules as pure functions', () => {
  it('AuthConfig → credentials: user/password, auth, registry token, identity token', () => {
    expect(credentialsOf(undefined)).toEqual({});
    expect(credentialsOf({ serveraddress: 'h' })).toEqual({});
    expect(credentialsOf({ username: 'a', password: 'b' })).toEqual({ credentials: { username: 'a', password: 'b' } });
    expect(credentialsOf({ auth: Buffer.from('a:b:c').toString('base64') })).toEqual({ credentials: { username: 'a', password: 'b:c' } });
    expect(credentialsOf({ registrytoken: 't', username: 'a', password: 'b' })).toEqual({ registryToken: 't' });
    expect(credentialsOf({ identitytoken: 'r' })).toEqual({ credentials: { username: '<token>', password: 'r' } });
  });

  it('a registry\'s refusal in dockerd\'s words, with the kind of its status', () => {
    const failure = (status: number, code: string, message: string) => Object.assign(new Error('x'), { registry: { status, errors: [{ code, message }] } });
    const url = 'http://h:5000/v2/app/manifests/nope';
    const m = dockerPullError(failure(404, 'MANIFEST_UNKNOWN', 'manifest unknown'), 'h:5000/app:nope', url) as Error & { kind: string };
    expect([m.message, m.kind]).toEqual(['manifest for h:5000/app:nope not found: manifest unknown: manifest unknown', 'not-found']);
    const n = dockerPullError(failure(404, 'NAME_UNKNOWN', 'repository name not known to registry'), 'docker.io/library/busybox:latest', url) as Error;
    expect(n.message).toBe('repository busybox not found: name unknown: repository name not known to registry');
    const d = dockerPullError(failure(403, 'DENIED', 'requested access to the resource is denied'), 'docker.io/me/private:latest', url) as Error;
    expect(d.message).toBe("pull access denied for me/private, repository does not exist or may require 'docker login': denied: requested access to the resource is denied");
    const u = dockerPullError(failure(401, 'UNAUTHORIZED', 'authentication required'), 'h:5000/app:nope', url) as Error & { kind: string };
    expect([u.message, u.kind]).toEqual([`Head "${url}": unauthorized: authentication required`, 'system']);
    const other = new Error('network');
    expect(dockerPullError(other, 'h:5000/app:nope', url)).toBe(other);
  });

  it('moby\'s isSingleReference: one tag, with digest names of its repository only', () => {
    expect(isSingleReference([])).toBe(false);
    expect(isSingleReference([rec('docker.io/library/a:1')])).toBe(true);
    expect(isSingleReference([rec('docker.io/library/a:1'), rec('docker.io/library/a:2')])).toBe(false);
    expect(isSingleReference([rec('docker.io/library/a:1'), rec(`docker.io/library/a@${D}`)])).toBe(true);
    expect(isSingleReference([rec('docker.io/library/a:1'), rec(`docker.io/library/b@${D}`)])).toBe(false);
  });

  it('filter timestamps: unix seconds, Go durations before now, dates; anything else is dockerd\'s error', () => {
    expect(timestampOf('1700000000')).toBe(1700000000_000);
    // Now, less 1h30m: between the clock read just before and just after the call.
    const before = Date.now();
    const t = timestampOf('1h30m');
    const after = Date.now();
    expect(t).toBeGreaterThanOrEqual(before - 5400_000);
    expect(t).toBeLessThanOrEqual(after - 5400_000);
    expect(timestampOf('2026-01-01T00:00:00Z')).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(() => timestampOf('soon')).toThrow('failed to parse value as time or duration: "soon"');
  });
});
