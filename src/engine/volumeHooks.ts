// What a create needs from src/volume: the request's mounts planned (checked
// before anything is made), then, once the bundle's rootfs is mounted, the
// volumes made and filled (copy-up) and the bundle's config given the mounts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../common/atomicFile.js';
import type { Spec } from '../spec/types.js';
import { parseVolumesFrom, planMounts, type ApiMount, type MountPlan } from '../volume/mounts.js';
import type { ContainerConfig, ContainerRecord, HostConfig } from './containerRecord.js';
import type { PreparedMounts, Volumes } from './volumes.js';

interface MountsOfRequest {
  config: ContainerConfig;
  hostConfig: HostConfig;
}

/** VolumesFrom: the mounts of each named container, read-only when asked (`ID:ro`). */
function fromContainers(list: string[] | undefined, find: (ref: string) => ContainerRecord): MountPlan[] {
  return (list ?? []).flatMap((spec, i) => {
    const { container, readOnly } = parseVolumesFrom(spec, i);
    const r = find(container);
    return (r.Mounts ?? []).filter((m) => m.type !== 'tmpfs').map((m): MountPlan => ({
      kind: m.type, ...(m.type === 'bind' ? { source: m.source } : { name: m.name }),
      destination: m.destination, readOnly: readOnly ?? m.readOnly, propagation: m.propagation, copy: false, mode: m.mode,
      field: `HostConfig.VolumesFrom[${i}]`,
    }));
  });
}

/** The request's mounts as plans (Docker's 400s); `imageVolumes`: the image's VOLUME entries. */
export function planContainerMounts(req: MountsOfRequest, imageVolumes: string[], find: (ref: string) => ContainerRecord): MountPlan[] {
  return planMounts({
    binds: req.hostConfig.Binds,
    mounts: req.hostConfig.Mounts as ApiMount[] | undefined,
    volumes: Object.keys(req.config.Volumes ?? {}),
    imageVolumes,
    volumesFrom: fromContainers(req.hostConfig.VolumesFrom, find),
    tmpfs: Object.keys(req.hostConfig.Tmpfs ?? {}),
  });
}

/** The image's VOLUME entries, kept by the bundle builder as an annotation (our own file: a bad one reads as none). */
function imageVolumesOf(spec: Spec): string[] {
  try {
    const v: unknown = JSON.parse(spec.annotations?.['io.tsrun.image.volumes'] ?? '[]');
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch { /* none */ }
  return [];
}

/** After the bundle is made: volumes created and filled, the OCI mounts added to its config. */
export async function bundleWithVolumes(bundle: string, early: MountPlan[], req: MountsOfRequest, find: (ref: string) => ContainerRecord, volumes: Volumes): Promise<PreparedMounts & { imageVolumes: string[] }> {
  const path = join(bundle, 'config.json');
  const spec = JSON.parse(await readFile(path, 'utf8')) as Spec;
  const imageVolumes = imageVolumesOf(spec);
  const plans = imageVolumes.length ? planContainerMounts(req, imageVolumes, find) : early;
  if (!plans.length) return { mounts: [], oci: [], created: [], imageVolumes };
  const prepared = await volumes.prepare(plans, join(bundle, 'rootfs'));
  try {
    const taken = new Set(prepared.oci.map((m) => m.destination));
    spec.mounts = [...(spec.mounts ?? []).filter((m) => !taken.has(m.destination)), ...prepared.oci];
    await writeFileAtomicAsync(path, JSON.stringify(spec));
  } catch (e) {
    await volumes.discard(prepared.created);
    throw e;
  }
  return { ...prepared, imageVolumes };
}

/** Config.Volumes as Docker keeps it: the request's and the image's VOLUME entries. */
export function configVolumes(c: ContainerConfig, imageVolumes: string[]): Pick<ContainerConfig, 'Volumes'> {
  const keys = [...new Set([...imageVolumes, ...Object.keys(c.Volumes ?? {})])];
  return keys.length ? { Volumes: Object.fromEntries(keys.map((k) => [k, {}])) } : {};
}
