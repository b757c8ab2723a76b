// The create body's build-time validator as the API layer uses it: Docker's
// types, null as the zero value, strslice, unknown fields ignored, and a wrong
// type refused with Go's decoder message naming the field.
import { describe, expect, it } from 'vitest';
import { parseCreateBody } from '../../src/supervisor/docker/containerBody.js';
import { fieldPath } from '../../src/supervisor/docker/bodyErrors.js';

const refusal = (body: unknown) => {
  try {
    parseCreateBody(body);
  } catch (e) {
    return { kind: (e as { kind?: string }).kind, message: (e as Error).message };
  }
  return undefined;
};

describe('parseCreateBody', () => {
  it('reads Docker\'s fields with their defaults', () => {
    const { config, hostConfig, warnings } = parseCreateBody({ Image: 'busybox', Cmd: 'true', Entrypoint: null, Env: null, Unknown: [1], HostConfig: { Memory: 1 << 20, CpuShares: 0, Privileged: false, CapAdd: null, SecurityOpt: ['no-new-privileges'], Tmpfs: {}, Other: {} } });
    expect(config).toMatchObject({ Image: 'busybox', Cmd: ['true'], Entrypoint: null, Env: [], Tty: false, Labels: {}, User: '' });
    // Resources are taken (hostConfigSpec applies them); zero, false, null and empty values are left out.
    expect(hostConfig).toEqual({ AutoRemove: false, NetworkMode: 'default', Binds: null, Memory: 1 << 20, SecurityOpt: ['no-new-privileges'], RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } });
    expect(warnings).toEqual([]);
  });

  it('takes HostConfig.RestartPolicy, refusing a bad one and one with AutoRemove (no create warning)', () => {
    const ok = parseCreateBody({ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
    expect(ok.hostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    expect(ok.warnings).toEqual([]);
    expect(() => parseCreateBody({ Image: 'busybox', HostConfig: { RestartPolicy: { Name: 'sometimes' } } })).toThrow(/invalid restart policy 'sometimes'/);
    expect(() => parseCreateBody({ Image: 'busybox', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } })).toThrow(/AutoRemove and restart policy/);
    // --add-host: name:IPv4, in dockerd's words otherwise; kept as given.
    expect(parseCreateBody({ Image: 'busybox', HostConfig: { ExtraHosts: ['other:10.9.9.9'] } }).hostConfig.ExtraHosts).toEqual(['other:10.9.9.9']);
    expect(() => parseCreateBody({ Image: 'busybox', HostConfig: { ExtraHosts: ['other:300.1.1.1'] } })).toThrow('invalid IP address in add-host: "300.1.1.1"');
    expect(() => parseCreateBody({ Image: 'busybox', HostConfig: { ExtraHosts: ['noip'] } })).toThrow('invalid IP address in add-host: "noip"');
  });

  it('refuses a wrong type as dockerd\'s decoder does, naming the field', () => {
    expect(refusal({ Image: 'busybox', OpenStdin: 1 })).toEqual({ kind: 'invalid-argument', message: 'json: cannot unmarshal number into Go struct field ContainerConfigWrapper.OpenStdin of type bool' });
    expect(refusal({ Image: 'busybox', HostConfig: { Binds: '/a:/b' } })).toEqual({ kind: 'invalid-argument', message: 'json: cannot unmarshal string into Go struct field ContainerConfigWrapper.HostConfig.Binds of type []string' });
    expect(refusal({ Image: 'busybox', Cmd: [1] })?.message).toBe('json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string');
    expect(refusal({ Image: 'busybox', HostConfig: { ConsoleSize: [1, 2, 3] } })?.message).toBe('HostConfig.ConsoleSize: must NOT have more than 2 items');
    expect(refusal('x')?.message).toBe('json: cannot unmarshal string into Go value of type container.ContainerConfigWrapper');
    expect(refusal(undefined)?.message).toBe('config cannot be empty in order to create a container');
    expect(refusal({})?.message).toMatch(/^Image: missing/);
  });

  it('names a field by its path, array indices left out, as Go does', () => {
    expect(fieldPath('/HostConfig/Binds/3')).toBe('HostConfig.Binds');
    expect(fieldPath('/Labels/a~1b')).toBe('Labels.a/b');
  });
});
