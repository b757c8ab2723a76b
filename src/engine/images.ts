// Images as a daemon serves them, by dockerd's rules: a pull with the client's
// credentials, "up to date" when the name already pointed there, an image a
// name moved away from kept by digest (dangling) rather than lost; delete in
// dockerd's order (untag, then delete when nothing refers to it) with its
// conflicts and texts (moby daemon/images/image_delete.go); prune; history;
// login; and the image events (pull, tag, untag, delete) as dockerd emits them.
//
// An image is its config digest (the ID); its references are the names stored
// for it: tags (repo:tag) and digests (repo@sha256:...; a pull stores the digest
// it resolved to beside the tag, as dockerd). An image with no tag is dangling.
// An image must always have one stored name, or the collector takes its content:
// where dockerd keeps an image with no reference at all (a container uses it, or
// a tag moved on), it is kept by a hidden record (ImageRecord.hidden), which is
// no reference: lists show it as <none>:<none>.
import { RuntimeError } from '../common/errors.js';
import type { RegistryFailure } from '../image/registry/client.js';
import type { Credentials } from '../image/registry/credentials.js';
import { checkLogin } from '../image/registry/login.js';
import { familiarName, formatReference, isRegistryHost, parseReference } from '../image/reference.js';
import { chainIds } from '../image/unpack/unpacker.js';
import { isIntermediateName } from '../image/build/imageWriter.js';
import type { Containers } from './containers.js';
import type { Engine, ImageConfig, ImageRecord, Progress } from './engine.js';

/** Docker's AuthConfig (X-Registry-Auth, POST /auth). */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** An entry of a delete's or prune's answer. */
export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface ImageListEntry {
  id: string;
  /** Familiar repo:tag names. */
  tags: string[];
  /** Familiar repo@digest names: every name's repository with what it resolved to. */
  digests: string[];
  created: string;
  size: number;
  labels: Record<string, string>;
}

export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

interface DeleteConflict {
  hard: boolean;
  used: boolean;
  message: string;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const isCanonical = (name: string) => !!parseReference(name).digest;
const repoOf = (name: string) => {
  const r = parseReference(name);
  return `${r.registry}/${r.repository}`;
};
const unix = (iso?: string) => (iso ? Math.floor(Date.parse(iso) / 1000) || 0 : 0);
const invalid = (step: string) => new RuntimeError({ kind: 'invalid-argument', step });

/** The name a client gave, in full (busybox → docker.io/library/busybox:latest); invalid-argument if it is none. */
export function fullName(name: string): string {
  try {
    return formatReference(parseReference(name));
  } catch (e) {
    throw invalid(`invalid reference format: ${(e as Error).message}`);
  }
}

/** An AuthConfig's credentials for the registry client. */
export function credentialsOf(a: AuthConfig | undefined): { credentials?: Credentials; registryToken?: string } {
  if (!a) return {};
  if (a.registrytoken) return { registryToken: a.registrytoken };
  if (a.username && a.password !== undefined && a.password !== '') return { credentials: { username: a.username, password: a.password } };
  if (a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) return { credentials: { username: plain.slice(0, colon), password: plain.slice(colon + 1) } };
  }
  // An identity token is a token service's refresh token; registries that take it over Basic use this user name.
  if (a.identitytoken) return { credentials: { username: '<token>', password: a.identitytoken } };
  return {};
}

/** A registry's refusal in dockerd's words (moby distribution/errors.go); other errors as they are. */
export function dockerPullError(e: unknown, name: string, manifestUrl: string): unknown {
  const reg = (e as { registry?: RegistryFailure } | null)?.registry;
  if (!reg) return e;
  const ref = parseReference(name);
  const repo = familiarName(`${ref.registry}/${ref.repository}`);
  const first = reg.errors[0];
  const text = first ? `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message}` : '';
  switch (first?.code) {
    case 'DENIED':
      return new RuntimeError({ kind: 'not-found', step: `pull access denied for ${repo}, repository does not exist or may require 'docker login': ${text}` });
    case 'MANIFEST_UNKNOWN':
      return new RuntimeError({ kind: 'not-found', step: `manifest for ${familiarName(name)} not found: ${text}` });
    case 'NAME_UNKNOWN':
      return new RuntimeError({ kind: 'not-found', step: `repository ${repo} not found: ${text}` });
  }
  if (reg.status === 401) {
    // Not the client's "unauthorized" (a 401 would make the docker CLI ask for a login): dockerd's unknown error, a 500.
    return new RuntimeError({ kind: 'system', step: `Head ${JSON.stringify(manifestUrl)}: unauthorized: ${first?.message || 'authentication required'}` });
  }
  return e;
}

/**
 * A registry's refusal of a push as dockerd words it (`unauthorized: ...`, `denied: ...`,
 * from the registry's errors), followed by which registry, step and HTTP status it was.
 */
export function dockerPushError(e: unknown): unknown {
  const reg = (e as { registry?: RegistryFailure } | null)?.registry;
  if (!reg || !(e instanceof RuntimeError)) return e;
  const first = reg.errors[0];
  const text = first ? `${first.code.toLowerCase().replace(/_/g, ' ')}: ${first.message}` : reg.status === 401 ? 'unauthorized: authentication required' : `HTTP ${reg.status}`;
  return new RuntimeError({ kind: reg.status === 404 ? 'not-found' : 'system', step: `${text} (HTTP ${reg.status} at ${e.step}${e.path ? `: ${e.path}` : ''})` });
}

/** Docker's timestamps of filters (until=): unix seconds, a Go duration before now (24h, 10m), or a date. */
export function timestampOf(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, µs: 1e-3, ns: 1e-6 };
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length && parts.map((p) => p[0]).join('') === v) return Date.now() - parts.reduce((a, p) => a + Number(p[1]) * units[p[2]], 0);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`failed to parse value as time or duration: "${v}"`);
  return t;
}

function labelsMatch(labels: Record<string, string>, wanted: string[] | undefined, negated: string[] | undefined): boolean {
  const has = (l: string) => {
    const eq = l.indexOf('=');
    return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
  };
  return (wanted ?? []).every(has) && !(negated ?? []).some(has);
}

function danglingFilter(f: Record<string, string[]>): boolean | undefined {
  const v = f.dangling;
  if (!v?.length) return undefined;
  for (const x of v) if (!['true', '1', 'false', '0'].includes(x.toLowerCase())) throw invalid(`Invalid filter 'dangling=[${v.join(' ')}]'`);
  return v.some((x) => ['true', '1'].includes(x.toLowerCase()));
}

function checkFilterKeys(f: Record<string, string[]>, accepted: string[]): void {
  for (const k of Object.keys(f)) if (!accepted.includes(k)) throw invalid(`Invalid filter '${k}'`);
}

export class Images {
  constructor(private readonly engine: Engine, private readonly containers: Containers) {}

  private emit(action: string, id: string, attributes: Record<string, string>): void {
    this.containers.events.emit('image', action, id, attributes);
  }

  /** dockerd adds the image's labels to its events (when it is still there to read). */
  private async eventAttributes(id: string, name: string): Promise<Record<string, string>> {
    const records = await this.engine.imageRecords();
    const any = records.find((r) => r.config === id);
    let labels: Record<string, string> = {};
    if (any) labels = (await this.engine.imageDetails(any.name).catch(() => undefined))?.config.config?.Labels ?? {};
    return { ...labels, name };
  }

  /** Unpacked bytes per layer and in all, as dockerd counts an image's size (a layer not unpacked: its compressed size). */
  async sizeOf(config: ImageConfig, compressed: number[]): Promise<{ layers: number[]; total: number }> {
    const sizes = await this.engine.layerSizes(chainIds(config.rootfs.diff_ids));
    const layers = sizes.map((s, i) => s ?? compressed[i] ?? 0);
    return { layers, total: layers.reduce((a, b) => a + b, 0) };
  }

  /** The image's references (its hidden record is none). */
  private async refsOf(id: string): Promise<ImageRecord[]> {
    return (await this.engine.imageRecords()).filter((r) => r.config === id && !r.hidden);
  }

  private async find(ref: string): Promise<ImageRecord> {
    let img: ImageRecord | undefined;
    try {
      img = await this.engine.findImage(ref);
    } catch { /* below */ }
    if (img?.hidden && !/^(sha256:)?[a-f0-9]+$/.test(ref)) img = undefined;
    if (!img) throw new RuntimeError({ kind: 'not-found', step: `No such image: ${ref}` });
    return img;
  }

  /**
   * Keeps an image that lost its last name (a pull or tag moved the name on,
   * or a forced untag left it to a container) under repo@digest.
   */
  /** An image got a reference: the record that kept it without one goes. */
  private async dropHidden(id: string): Promise<void> {
    for (const r of (await this.engine.imageRecords()).filter((x) => x.config === id && x.hidden)) await this.engine.untagImage(r.name);
  }

  private async keepIfNameless(old: ImageRecord | undefined): Promise<void> {
    if (!old) return;
    if ((await this.refsOf(old.config)).length) return;
    await this.engine.putImageRecord({ ...old, name: `${repoOf(old.name)}@${old.target.digest}`, hidden: true });
  }

  // Pull, tag, login

  /**
   * Pulls `name` (in full) with the client's credentials. `upToDate`: the name
   * already pointed at what the registry has (dockerd's "Image is up to date").
   * An image whose layers are all here already reports none of them, as dockerd.
   */
  async pull(name: string, o: { insecure?: boolean; auth?: AuthConfig; progress: Progress }): Promise<{ record: ImageRecord; upToDate: boolean }> {
    const records = await this.engine.imageRecords();
    const before = records.find((r) => r.name === name);
    const known = new Set(records.map((r) => r.config));
    let quiet = false;
    const p = o.progress;
    const progress: Progress = {
      resolved(image) {
        quiet = known.has(image.config);
        p.resolved?.(image);
      },
      layer: (id, total) => { if (!quiet) p.layer(id, total); },
      update: (id, done) => { if (!quiet) p.update(id, done); },
      status: (id, state) => { if (!quiet) p.status(id, state); },
      done: () => p.done(),
    };
    const ref = parseReference(name);
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    const local = /^(localhost|127\.|\[::1\])/.test(host);
    const manifestUrl = `${o.insecure || local ? 'http' : 'https'}://${host}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag}`;
    let record: ImageRecord;
    try {
      record = await this.engine.pull(name, { insecure: o.insecure, progress, ...credentialsOf(o.auth) });
    } catch (e) {
      throw dockerPullError(e, name, manifestUrl);
    }
    // dockerd's reference store: the digest the tag resolved to is a reference too.
    if (!parseReference(name).digest) await this.engine.putImageRecord({ ...record, name: `${repoOf(name)}@${record.target.digest}` });
    await this.dropHidden(record.config);
    if (before && before.config !== record.config) await this.keepIfNameless(before);
    this.emit('pull', familiarName(name), await this.eventAttributes(record.config, familiarName(`${ref.registry}/${ref.repository}`)));
    return { record, upToDate: before?.target.digest === record.target.digest };
  }

  /** docker tag: `target` (in full) names the image `source` names. */
  async tag(source: string, target: string): Promise<void> {
    const img = await this.find(source);
    const before = (await this.engine.imageRecords()).find((r) => r.name === target);
    const { hidden: _hidden, ...image } = img;
    await this.engine.putImageRecord({ ...image, name: target, updated: new Date().toISOString() });
    await this.dropHidden(img.config);
    if (before && before.config !== img.config) await this.keepIfNameless(before);
    this.emit('tag', img.config, await this.eventAttributes(img.config, familiarName(target)));
  }

  /**
   * docker push: each tag of `name`'s repository that is asked (`tag`, or every tag of
   * the repository when none), in turn. Layers are reported by their diff ID's short
   * form, as dockerd. After each tag the digest it has at the registry is a reference
   * here too (RepoDigests). A layer another repository of the same registry has
   * (an image here from there names it) is mounted from there.
   */
  async push(name: string, tag: string | undefined, o: { insecure?: boolean; auth?: AuthConfig; progress: Progress; onTag?: (tag: string) => void }): Promise<Array<{ tag: string; digest: string; size: number }>> {
    const ref = parseReference(name);
    const repo = `${ref.registry}/${ref.repository}`;
    const records = await this.engine.imageRecords();
    const tags = tag ? [`${repo}:${tag}`] : records.filter((r) => !r.hidden && !isCanonical(r.name) && repoOf(r.name) === repo).map((r) => r.name);
    const found = tags.filter((t) => records.some((r) => r.name === t));
    if (!found.length) throw new RuntimeError({ kind: 'not-found', step: `An image does not exist locally with the tag: ${familiarName(repo)}` });
    // Blob → another repository of this registry known to hold it.
    const elsewhere = new Map<string, string>();
    for (const r of records) {
      const other = parseReference(r.name);
      if (other.registry !== ref.registry || other.repository === ref.repository) continue;
      const details = await this.engine.imageDetails(r.name).catch(() => undefined);
      for (const l of details?.manifest.layers ?? []) if (!elsewhere.has(l.digest)) elsewhere.set(l.digest, other.repository);
    }
    const out: Array<{ tag: string; digest: string; size: number }> = [];
    for (const t of found) {
      const { record, config, manifest } = await this.engine.imageDetails(t);
      // Layer digest → its diff ID, the ID dockerd shows.
      const diffOf = new Map(manifest.layers.map((l, i) => [l.digest, config.rootfs.diff_ids[i] ?? l.digest]));
      const p = o.progress;
      const id = (digest: string) => diffOf.get(digest) ?? digest;
      const progress: Progress = {
        layer: (d, total) => p.layer(id(d), total),
        update: (d, done) => p.update(id(d), done),
        status: (d, state) => p.status(id(d), state === 'mounted' ? `mounted:${elsewhere.get(d) ?? ''}` : state),
        done: () => undefined,
      };
      let result;
      try {
        result = await this.engine.push(record.name, t, { insecure: o.insecure, progress, mountFrom: (d) => elsewhere.get(d), ...credentialsOf(o.auth) });
      } catch (e) {
        throw dockerPushError(e);
      }
      const pushedTag = parseReference(t).tag!;
      const desc = { mediaType: result.mediaType, digest: result.digest, size: result.size };
      await this.engine.putImageRecord({ ...record, name: `${repo}@${result.digest}`, target: desc, manifest: desc, hidden: undefined, updated: new Date().toISOString() });
      out.push({ tag: pushedTag, digest: result.digest, size: result.size });
      o.onTag?.(pushedTag);
      this.emit('push', familiarName(t), await this.eventAttributes(record.config, familiarName(t)));
    }
    return out;
  }

  /** docker login through the daemon: the registry's /v2/ accepts the credentials, or dockerd's error. */
  async login(auth: AuthConfig, insecureRegistries: string[]): Promise<{ Status: string; IdentityToken: string }> {
    // dockerd: no server address is Docker Hub.
    const server = (auth.serveraddress ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '') || 'docker.io';
    // A server address that is no host (`../etc`, a newline) is the client's mistake, never looked up.
    if (!isRegistryHost(server)) throw invalid(`invalid registry address ${JSON.stringify(auth.serveraddress)}: want a host name or address with an optional port`);
    const host = server === 'index.docker.io' || server === 'docker.io' ? 'registry-1.docker.io' : server;
    const { credentials } = credentialsOf(auth);
    if (!credentials) throw invalid('username and password: missing');
    await checkLogin(host, credentials, { insecure: insecureRegistries.includes(server) });
    return { Status: 'Login Succeeded', IdentityToken: '' };
  }

  // Listing, inspect, history

  async list(filters: Record<string, string[]> = {}): Promise<ImageListEntry[]> {
    checkFilterKeys(filters, ['dangling', 'label', 'reference', 'before', 'since']);
    const dangling = danglingFilter(filters);
    const byId = new Map<string, ImageListEntry>();
    const hidden = new Set((await this.engine.imageRecords()).filter((r) => r.hidden).map((r) => r.name));
    for (const s of await this.engine.listImages()) {
      // A build's intermediate images are listed only by another name (dockerd: images with children).
      if (isIntermediateName(s.name)) continue;
      const e = byId.get(s.id) ?? { id: s.id, tags: [], digests: [], created: s.created, size: s.size, labels: {} };
      byId.set(s.id, e);
      if (hidden.has(s.name)) continue;
      if (s.tag !== '<none>') e.tags.push(`${s.repository}:${s.tag}`);
      else if (!e.digests.includes(`${s.repository}@${s.digest}`)) e.digests.push(`${s.repository}@${s.digest}`);
    }
    const out: ImageListEntry[] = [];
    const createdOf = async (ref: string) => Date.parse((await this.find(ref).then((r) => byId.get(r.config)))?.created ?? '') || 0;
    const before = filters.before?.length ? await createdOf(filters.before[0]) : undefined;
    const since = filters.since?.length ? await createdOf(filters.since[0]) : undefined;
    for (const e of byId.values()) {
      const rec = (await this.engine.imageRecords()).find((r) => r.config === e.id)!;
      const details = await this.engine.imageDetails(rec.name).catch(() => undefined);
      e.labels = details?.config.config?.Labels ?? {};
      if (details) e.size = (await this.sizeOf(details.config, details.manifest.layers.map((l) => l.size))).total;
      if (dangling !== undefined && (e.tags.length === 0) !== dangling) continue;
      if (!labelsMatch(e.labels, filters.label, undefined)) continue;
      if (filters.reference?.length) {
        // moby's FamiliarMatch: the pattern against the name with its tag or digest, or against the repository;
        // only the references that match are shown.
        const matching = (r: string) => filters.reference!.some((pat) => globMatch(pat, r) || globMatch(pat, r.replace(/@.*$|:[^:/]*$/, '')));
        e.tags = e.tags.filter(matching);
        e.digests = e.digests.filter(matching);
        if (!e.tags.length && !e.digests.length) continue;
      }
      const created = Date.parse(e.created) || 0;
      if (before !== undefined && created >= before) continue;
      if (since !== undefined && created <= since) continue;
      out.push(e);
    }
    return out;
  }

  /** The image's tags and digests (familiar), for an inspect. */
  async namesOf(id: string): Promise<{ tags: string[]; digests: string[] }> {
    const refs = await this.refsOf(id);
    return {
      tags: refs.filter((r) => !isCanonical(r.name)).map((r) => familiarName(r.name)),
      digests: refs.filter((r) => isCanonical(r.name)).map((r) => familiarName(r.name)),
    };
  }

  /** docker history: the config's history, newest first, the image's ID and tags on the top entry. */
  async history(name: string): Promise<HistoryEntry[]> {
    const record = await this.find(name);
    const { config, manifest } = await this.engine.imageDetails(record.name);
    // The config came from a registry: each field is read for what it is.
    const history = (Array.isArray(config.history) ? config.history : []).map((h) => (h && typeof h === 'object' ? h as Record<string, unknown> : {}));
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const sizes = (await this.sizeOf(config, manifest.layers.map((l) => l.size))).layers;
    let layer = 0;
    const entries: HistoryEntry[] = history.length
      ? history.map((h) => ({ Id: '<missing>', Created: unix(text(h.created)), CreatedBy: text(h.created_by), Tags: null, Size: h.empty_layer === true ? 0 : (sizes[layer++] ?? 0), Comment: text(h.comment) }))
      : sizes.map((size) => ({ Id: '<missing>', Created: unix(config.created), CreatedBy: '', Tags: null, Size: size, Comment: '' }));
    entries.reverse();
    if (entries.length) {
      entries[0].Id = record.config;
      const { tags } = await this.namesOf(record.config);
      entries[0].Tags = tags.length ? tags : null;
    }
    return entries;
  }

  // Delete, prune

  /** moby's checkImageDeleteConflict: the first conflict the mask asks about, with whether a container uses the image. */
  private conflict(id: string, mask: { running: boolean; reference: boolean; stopped: boolean }, refs: number): { error: RuntimeError; used: boolean } | undefined {
    const users = this.containers.list().filter((c) => c.ImageId === id);
    const running = users.find((c) => c.State.Status === 'running');
    const stopped = users.find((c) => c.State.Status !== 'running');
    let c: DeleteConflict | undefined;
    if (mask.running && running) c = { hard: true, used: true, message: `image is being used by running container ${short(running.Id)}` };
    else if (mask.reference && refs > 0) c = { hard: false, used: false, message: 'image is referenced in multiple repositories' };
    else if (mask.stopped && stopped) c = { hard: false, used: true, message: `image is being used by stopped container ${short(stopped.Id)}` };
    if (!c) return undefined;
    return { error: new RuntimeError({ kind: 'exists', step: `conflict: unable to delete ${short(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}` }), used: c.used };
  }

  /** Removes one reference; `event`: dockerd's untag event (not for the digests that go with a repository's last tag). */
  private async untag(rec: ImageRecord, items: DeleteItem[], event = true): Promise<void> {
    const attributes = await this.eventAttributes(rec.config, rec.config);
    await this.engine.untagImage(rec.name);
    items.push({ Untagged: familiarName(rec.name) });
    if (event) this.emit('untag', rec.config, attributes);
  }

  /**
   * docker rmi: `ref` a name (that name goes; the image too when it was the last) or an
   * ID (every name goes with the image). `noprune` is accepted: images here have no
   * parent images for it to keep.
   */
  async remove(ref: string, o: { force?: boolean; noprune?: boolean } = {}): Promise<{ items: DeleteItem[]; bytes: number }> {
    const img = await this.find(ref);
    const id = img.config;
    const items: DeleteItem[] = [];
    let refs = await this.refsOf(id);
    const hex = ref.replace(/^sha256:/, '');
    let asName: string | undefined;
    try {
      asName = formatReference(parseReference(ref));
    } catch { /* an ID */ }
    const byId = /^[a-f0-9]+$/.test(hex) && id.slice(7).startsWith(hex) && img.name !== asName;
    const { config } = await this.engine.imageDetails(img.name).catch(() => ({ config: undefined as ImageConfig | undefined }));
    let quiet = false;
    if (!byId) {
      if (!o.force && isSingleReference(refs)) {
        const user = this.containers.list().find((c) => c.ImageId === id);
        if (user) throw new RuntimeError({ kind: 'exists', step: `conflict: unable to remove repository reference "${ref}" (must force) - container ${short(user.Id)} is using its referenced image ${short(id)}` });
      }
      await this.untag(img, items);
      refs = refs.filter((r) => r.name !== img.name);
      if (!isCanonical(img.name) && !refs.some((r) => !isCanonical(r.name) && repoOf(r.name) === repoOf(img.name))) {
        // The repository's last tag went: its digest names go with it.
        for (const r of refs.filter((x) => isCanonical(x.name) && repoOf(x.name) === repoOf(img.name))) await this.untag(r, items, false);
        refs = refs.filter((x) => !(isCanonical(x.name) && repoOf(x.name) === repoOf(img.name)));
      }
      if (refs.length) return { items, bytes: 0 };
      quiet = true;
    } else if (isSingleReference(refs)) {
      const c = this.conflict(id, { running: true, reference: false, stopped: !o.force }, refs.length);
      if (c) throw c.error;
      for (const r of refs) await this.untag(r, items);
      refs = [];
    }
    const c = this.conflict(id, { running: true, reference: !o.force, stopped: !o.force }, refs.length);
    if (c) {
      if (quiet && c.used) {
        // dockerd keeps the image, dangling, for the container that uses it.
        await this.keepIfNameless(img);
        return { items, bytes: 0 };
      }
      throw c.error;
    }
    for (const r of refs) await this.untag(r, items);
    await this.dropHidden(id);
    const chain = config ? chainIds(config.rootfs.diff_ids) : [];
    const sizes = await this.engine.layerSizes(chain);
    const { layers } = await this.engine.collectUnused();
    const gone = new Set(layers);
    items.push({ Deleted: id }, ...chain.filter((l) => gone.has(l)).reverse().map((l) => ({ Deleted: l })));
    this.emit('delete', id, { name: id });
    // dockerd's SpaceReclaimed: the unpacked bytes of the layers that went.
    return { items, bytes: chain.reduce((a, l, i) => a + (gone.has(l) ? (sizes[i] ?? 0) : 0), 0) };
  }

  /** docker image prune: dangling images (all unused ones with dangling=false) that no container uses. */
  async prune(filters: Record<string, string[]>): Promise<{ ImagesDeleted: DeleteItem[] | null; SpaceReclaimed: number }> {
    checkFilterKeys(filters, ['dangling', 'until', 'label', 'label!']);
    // dockerd 20.10: only false/0 widen it; any other value keeps the default.
    const danglingOnly = !(filters.dangling ?? []).some((v) => ['false', '0'].includes(v.toLowerCase()));
    const until = filters.until?.length ? timestampOf(filters.until[0]) : undefined;
    const inUse = new Set(this.containers.list().map((c) => c.ImageId));
    const deleted: DeleteItem[] = [];
    let bytes = 0;
    const ids = [...new Set((await this.engine.imageRecords()).map((r) => r.config))];
    for (const id of ids) {
      if (inUse.has(id)) continue;
      const refs = await this.refsOf(id);
      const any = (await this.engine.imageRecords()).find((r) => r.config === id);
      if (!any) continue;
      const { config } = await this.engine.imageDetails(any.name).catch(() => ({ config: undefined as ImageConfig | undefined }));
      if (until !== undefined && (Date.parse(config?.created ?? '') || 0) > until) continue;
      if (!labelsMatch(config?.config?.Labels ?? {}, filters.label, filters['label!'])) continue;
      if (danglingOnly && refs.some((r) => !isCanonical(r.name))) continue;
      for (const r of refs.length ? refs.map((x) => x.name) : [id]) {
        try {
          const { items, bytes: b } = await this.remove(r);
          deleted.push(...items);
          bytes += b;
        } catch (e) {
          if ((e as RuntimeError).kind !== 'exists' && (e as RuntimeError).kind !== 'not-found') throw e;
        }
      }
    }
    this.emit('prune', '', { reclaimed: String(bytes) });
    return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: bytes };
  }
}

/** moby's isSingleReference: one tag (or none), and any digest names of that tag's repository only. */
export function isSingleReference(refs: ImageRecord[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageRecord | undefined;
  const canonicalRepos = new Set<string>();
  for (const r of refs) {
    if (isCanonical(r.name)) canonicalRepos.add(repoOf(r.name));
    else if (!single) single = r;
    else return false;
  }
  single ??= refs[0];
  return canonicalRepos.size === 1 && canonicalRepos.has(repoOf(single.name));
}

/** Docker's reference filter: a glob over repo:tag (`*` within a path part). */
function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return re.test(name);
}
