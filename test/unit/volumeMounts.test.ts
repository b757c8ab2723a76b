import { describe, expect, it } from 'vitest';
import { checkVolumeName, ociMounts, parseBind, parseVolumesFrom, planMounts } from '../../src/volume/mounts.js';

describe('planMounts', () => {
  it('reads Binds: host paths are binds (the host dir made), names are volumes', () => {
    const [b, v] = planMounts({ binds: ['/srv/x/../data:/data:ro,Z', 'mydata:/var/lib/db:nocopy'] });
    expect(b).toMatchObject({ kind: 'bind', source: '/srv/data', destination: '/data', readOnly: true, propagation: 'rprivate', createHostDir: true, mode: 'ro,Z', field: 'HostConfig.Binds[0]' });
    expect(v).toMatchObject({ kind: 'volume', name: 'mydata', destination: '/var/lib/db', readOnly: false, copy: false, field: 'HostConfig.Binds[1]' });
    expect(parseBind('/a:/b:rshared', 'f').propagation).toBe('rshared');
  });

  it('reads Mounts: bind (must exist later), volume with options, tmpfs with size and mode', () => {
    const plans = planMounts({ mounts: [
      { Type: 'bind', Source: '/h', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rslave' } },
      { Type: 'volume', Source: 'v1', Target: '/v', VolumeOptions: { NoCopy: true, DriverConfig: { Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } } } },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576, Mode: 0o1777 } },
      { Type: 'volume', Target: '/anon' },
    ] });
    expect(plans[0]).toMatchObject({ kind: 'bind', source: '/h', readOnly: true, propagation: 'rslave' });
    expect(plans[0].createHostDir).toBeUndefined();
    expect(plans[1]).toMatchObject({ kind: 'volume', name: 'v1', copy: false, volumeOptions: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' } });
    expect(plans[2]).toMatchObject({ kind: 'tmpfs', tmpfsOptions: ['size=1048576', 'mode=1777'] });
    expect(plans[3]).toMatchObject({ kind: 'volume', copy: true });
    expect(plans[3].name).toBeUndefined();
  });

  it('adds Config.Volumes and the image VOLUMEs as anonymous volumes where nothing else is mounted', () => {
    const plans = planMounts({ binds: ['named:/data'], volumes: ['/cache'], imageVolumes: ['/data', '/logs'] });
    expect(plans.map((p) => [p.destination, p.name, p.field])).toEqual([
      ['/data', 'named', 'HostConfig.Binds[0]'],
      ['/cache', undefined, 'Config.Volumes["/cache"]'],
      ['/logs', undefined, 'the image\'s VOLUME "/logs"'],
    ]);
  });

  it('takes VolumesFrom plans after Binds and Mounts', () => {
    const from = { kind: 'volume' as const, name: 'v', destination: '/d', readOnly: true, propagation: '', copy: false, mode: '', field: 'HostConfig.VolumesFrom[0]' };
    expect(planMounts({ binds: ['/h:/d'], volumesFrom: [from] })).toHaveLength(1);
    expect(planMounts({ volumesFrom: [from] })[0]).toBe(from);
    expect(parseVolumesFrom('abc:ro', 0)).toEqual({ container: 'abc', readOnly: true });
    expect(parseVolumesFrom('abc', 0)).toEqual({ container: 'abc' });
    expect(() => parseVolumesFrom('abc:xx', 0)).toThrow(/VolumesFrom\[0\]/);
  });

  it.each([
    [{ binds: ['/a:/data', 'vv:/data/'] }, 'Duplicate mount point: /data'],
    [{ binds: ['/a:/'] }, "destination can't be '/'"],
    [{ binds: ['/a:rel'] }, 'mount path must be absolute'],
    [{ binds: ['/a:/b:bogus'] }, 'invalid mode: bogus'],
    [{ binds: ['/a:/b:ro,rw'] }, 'invalid mode'],
    [{ binds: ['a:/b'] }, 'create a: volume name is too short, names should be at least two alphanumeric characters'],
    [{ binds: ['b@d:/b'] }, 'create b@d: "b@d" includes invalid characters for a local volume name'],
    [{ binds: ['./rel:/b'] }, 'includes invalid characters'],
    [{ binds: ['nope'] }, "invalid volume specification: 'nope'"],
    [{ mounts: [{ Type: 'bind', Source: 'rel', Target: '/b' }] }, "invalid mount path: 'rel' mount path must be absolute"],
    [{ mounts: [{ Type: 'bind', Target: '/b' }] }, 'field Source must not be empty'],
    [{ mounts: [{ Type: 'nfs', Target: '/b' }] }, 'mount type unknown'],
    [{ mounts: [{ Type: 'tmpfs', Target: '/' }] }, "destination can't be '/'"],
    [{ mounts: [{ Type: 'tmpfs', Source: 'x', Target: '/t' }] }, 'field Source must not be specified'],
    [{ mounts: [{ Type: 'volume', Target: '/v', VolumeOptions: { DriverConfig: { Options: { bogus: '1' } } } }] }, 'invalid option key: "bogus"'],
    [{ mounts: [{ Type: 'bind', Source: '/h', Target: '/v', BindOptions: { Propagation: 'weird' } }] }, 'invalid propagation mode'],
    [{ mounts: [{ Type: 'volume', Target: '/x' }, { Type: 'tmpfs', Target: '/x' }] }, 'Duplicate mount point: /x'],
    [{ binds: ['/h:/run/x'], tmpfs: ['/run/x'] }, 'Duplicate mount point: /run/x'],
  ])('refuses %j', (req, message) => {
    expect(() => planMounts(req as Parameters<typeof planMounts>[0])).toThrow(message);
    try { planMounts(req as Parameters<typeof planMounts>[0]); } catch (e) { expect((e as { kind: string }).kind).toBe('invalid-argument'); }
  });

  it('checks volume names as the local driver', () => {
    expect(() => checkVolumeName('ok_1.x-y')).not.toThrow();
    expect(() => checkVolumeName('_x')).toThrow(/invalid characters/);
  });
});

describe('ociMounts', () => {
  it('makes binds, volumes (at their data dir) and tmpfs, parents first', () => {
    const plans = planMounts({ binds: ['/h:/a/b:ro', 'vol:/a'], mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 4096 } }] });
    expect(ociMounts(plans, (p) => `/vols/${p.name}/_data`)).toEqual([
      { destination: '/a', type: 'bind', source: '/vols/vol/_data', options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=4096', 'rw'] },
      { destination: '/a/b', type: 'bind', source: '/h', options: ['rbind', 'rprivate', 'ro'] },
    ]);
  });
});
