// The pure parts of push and load: upload URLs from a registry's Location, the
// digest query, the checks on an archive's index.json and manifest.json, and
// how a registry's refusal of a push is worded.
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/common/errors.js';
import { dockerPushError } from '../../src/engine/images.js';
import { parseDockerManifest, parseIndexJson } from '../../src/image/importArchive.js';
import { uploadUrl, withDigest } from '../../src/image/registry/push.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('push URLs', () => {
  it('resolves a relative Location against the request, keeps an absolute one', () => {
    expect(uploadUrl('/v2/x/blobs/uploads/123?_state=s', 'http://127.0.0.1:5000/v2/x/blobs/uploads/')).toBe('http://127.0.0.1:5000/v2/x/blobs/uploads/123?_state=s');
    expect(uploadUrl('http://other:1/u/1', 'http://127.0.0.1:5000/v2/x/blobs/uploads/')).toBe('http://other:1/u/1');
    expect(() => uploadUrl(null, 'http://h/v2/x/blobs/uploads/')).toThrow(/without a Location header/);
  });

  it('adds ?digest= beside the upload\'s own query', () => {
    expect(withDigest('http://h/u/1?_state=abc', D)).toBe(`http://h/u/1?_state=abc&digest=sha256%3A${'a'.repeat(64)}`);
    expect(withDigest('http://h/u/1', D)).toBe(`http://h/u/1?digest=sha256%3A${'a'.repeat(64)}`);
  });
});

describe('archive documents', () => {
  const j = (v: unknown) => Buffer.from(JSON.stringify(v));
  it('accepts an OCI index and a docker manifest.json', () => {
    expect(parseIndexJson(j({ schemaVersion: 2, manifests: [{ mediaType: 'm', digest: D, size: 3, annotations: { a: 'b' } }] }), 'x.tar').manifests).toHaveLength(1);
    expect(parseDockerManifest(j([{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] }]), 'x.tar')).toHaveLength(1);
  });

  it('names the file and the field that is wrong', () => {
    expect(() => parseIndexJson(Buffer.from('{'), 'x.tar')).toThrow(/^import "x.tar": index.json: not JSON/);
    expect(() => parseIndexJson(j({}), 'x.tar')).toThrow('index.json: not an OCI index (no manifests array)');
    expect(() => parseIndexJson(j({ manifests: [{ mediaType: 'm', digest: 'sha256:zz', size: 1 }] }), 'x.tar')).toThrow('manifests[0] is not a descriptor');
    expect(() => parseIndexJson(j({ manifests: [{ mediaType: 'm', digest: D, size: 1, annotations: { a: 1 } }] }), 'x.tar')).toThrow('manifests[0].annotations is not a map of strings');
    expect(() => parseDockerManifest(j({}), 'x.tar')).toThrow('manifest.json: not an array of images');
    expect(() => parseDockerManifest(j([{ Config: 'c', Layers: [1] }]), 'x.tar')).toThrow('[0].Layers is not a list of paths');
    expect(() => parseDockerManifest(j([{ Config: 'c', Layers: [], RepoTags: 'a' }]), 'x.tar')).toThrow('[0].RepoTags is not a list of names');
  });
});

describe('dockerPushError', () => {
  it('words a registry refusal as dockerd, then says where and which status', () => {
    const e = Object.assign(new RuntimeError({ step: 'get a registry token', path: 'http://r:1/token' }), { registry: { status: 401, errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] } });
    expect((dockerPushError(e) as Error).message).toBe('unauthorized: incorrect username or password (HTTP 401 at get a registry token: http://r:1/token)');
    const plain = new RuntimeError({ step: 'x' });
    expect(dockerPushError(plain)).toBe(plain);
  });
});
