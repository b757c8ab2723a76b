import type { ErrorObject } from 'ajv';
import validateSchema from './generated/validateConfigSchema.js';
import { pointerToPath } from '../common/jsonPointer.js';
import type { Spec } from './types.js';

export interface ConfigProblem {
  /** Dotted path of the field, e.g. `.process.args`. */
  field: string;
  message: string;
}

export class ConfigError extends Error {
  readonly kind = 'invalid-argument' as const;
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${file}: ${p.field}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

const SUPPORTED_MAJOR = 1;

/** Parses and validates config.json text: schema first, then what a schema cannot say. */
export function parseConfig(text: string, file = 'config.json'): Spec {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(file, [{ field: '.', message: `invalid JSON: ${(e as Error).message}` }]);
  }
  const problems = validateConfigDocument(doc);
  if (problems.length) throw new ConfigError(file, problems);
  return doc as Spec;
}

export function validateConfigDocument(doc: unknown): ConfigProblem[] {
  if (!validateSchema(doc)) return schemaProblems(validateSchema.errors ?? []);
  return semanticProblems(doc as Spec);
}

function schemaProblems(errors: ErrorObject[]): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of errors) {
    let field = pointerToPath(e.instancePath);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      field = pointerToPath(`${e.instancePath}/${missing}`);
      message = 'is required';
    } else if (e.keyword === 'enum') {
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'type') {
      message = `must be of type ${(e.params as { type: string }).type}`;
    }
    const key = `${field}\0${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ field, message });
    }
  }
  return out;
}

const KNOWN_SYSCTL_PREFIXES = ['kernel.msg', 'kernel.sem', 'kernel.shm', 'fs.mqueue.', 'net.'];
const KNOWN_SYSCTL_KEYS = new Set(['kernel.domainname', 'kernel.hostname']);

/** Dotted path of a key below `base`, as the schema errors show it. */
function childField(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/**
 * Every string (and key) holding a NUL byte: the native side takes strings as
 * C strings and would silently cut them there.
 */
function nulProblems(value: unknown, field: string, out: ConfigProblem[]): void {
  if (typeof value === 'string') {
    if (value.includes('\0')) out.push({ field: field || '.', message: 'contains a NUL byte' });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) nulProblems(value[i], childField(field, i), out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\0')) out.push({ field: childField(field, k), message: 'the key contains a NUL byte' });
      nulProblems(v, childField(field, k), out);
    }
  }
}

// RLIM_INFINITY is 2^64-1; JSON.parse rounds 18446744073709551615 up to 2^64 exactly, so that one means it too.
const RLIMIT_MAX = 2 ** 64;

function semanticProblems(spec: Spec): ConfigProblem[] {
  const p: ConfigProblem[] = [];
  const add = (field: string, message: string) => p.push({ field, message });
  nulProblems(spec, '', p);

  (spec.process?.rlimits ?? []).forEach((rl, i) => {
    for (const key of ['soft', 'hard'] as const) {
      const v = rl[key];
      if (typeof v !== 'number') continue;
      if (!Number.isInteger(v) || v < 0) add(`.process.rlimits[${i}].${key}`, `must be a non-negative integer, got ${v}`);
      else if (v > RLIMIT_MAX) add(`.process.rlimits[${i}].${key}`, `${v} is above 2^64-1 (use 18446744073709551615 for unlimited)`);
    }
  });
  for (const [kind, hooks] of Object.entries(spec.hooks ?? {})) {
    (hooks ?? []).forEach((h: { path?: unknown }, i: number) => {
      if (typeof h.path === 'string' && !h.path.startsWith('/'))
        add(`.hooks.${kind}[${i}].path`, `must be an absolute path, got ${JSON.stringify(h.path)}`);
    });
  }

  const major = /^(\d+)\./.exec(spec.ociVersion);
  if (!major) add('.ociVersion', `${JSON.stringify(spec.ociVersion)} is not a semantic version`);
  else if (Number(major[1]) !== SUPPORTED_MAJOR)
    add('.ociVersion', `major version ${major[1]} is not supported (tsrun reads 1.x)`);

  if (spec.process) {
    const proc = spec.process;
    if (!proc.args?.length && !proc.commandLine) add('.process.args', 'must be a non-empty array');
    if (!proc.cwd.startsWith('/')) add('.process.cwd', `must be an absolute path, got ${JSON.stringify(proc.cwd)}`);
    if (proc.consoleSize && !proc.terminal) {
      // runc ignores it too; not an error, but nothing to check.
    }
  }

  const nsSeen = new Map<string, number>();
  const namespaces = spec.linux?.namespaces ?? [];
  namespaces.forEach((ns, i) => {
    if (nsSeen.has(ns.type))
      add(`.linux.namespaces[${i}]`, `duplicate namespace type ${JSON.stringify(ns.type)} (also at [${nsSeen.get(ns.type)}])`);
    nsSeen.set(ns.type, i);
    if (ns.path !== undefined && ns.path !== '' && !ns.path.startsWith('/'))
      add(`.linux.namespaces[${i}].path`, `must be an absolute path, got ${JSON.stringify(ns.path)}`);
  });
  // Without one, the rootfs mounts and pivot_root would happen in the host's mount namespace.
  // (Only a container's config has a root; exec's and update's documents are checked here too.)
  if (spec.root && !namespaces.some((ns) => ns.type === 'mount'))
    add('.linux.namespaces', 'needs a mount namespace (type "mount", new or joined by path): tsrun never builds a container in the host\'s mount namespace');
  const newUserNs = namespaces.some((ns) => ns.type === 'user' && !ns.path);
  const hasMappings = (spec.linux?.uidMappings?.length ?? 0) > 0 || (spec.linux?.gidMappings?.length ?? 0) > 0;
  if (newUserNs && !(spec.linux?.uidMappings?.length && spec.linux?.gidMappings?.length))
    add('.linux.uidMappings', 'a new user namespace needs both uidMappings and gidMappings');
  if (hasMappings && !newUserNs)
    add('.linux.uidMappings', 'mappings are only valid with a new user namespace (linux.namespaces type "user" without path)');
  if (spec.linux?.timeOffsets && !namespaces.some((ns) => ns.type === 'time' && !ns.path))
    add('.linux.timeOffsets', 'time offsets need a new time namespace');

  (spec.mounts ?? []).forEach((m, i) => {
    if (!m.destination.startsWith('/'))
      add(`.mounts[${i}].destination`, `must be an absolute path, got ${JSON.stringify(m.destination)}`);
  });
  (spec.linux?.devices ?? []).forEach((d, i) => {
    if (!d.path.startsWith('/dev/') ) add(`.linux.devices[${i}].path`, `must be an absolute path under /dev, got ${JSON.stringify(d.path)}`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined))
      add(`.linux.devices[${i}]`, `a device of type ${JSON.stringify(d.type)} needs major and minor`);
  });
  (['maskedPaths', 'readonlyPaths'] as const).forEach((key) => {
    (spec.linux?.[key] ?? []).forEach((path, i) => {
      if (!path.startsWith('/')) add(`.linux.${key}[${i}]`, `must be an absolute path, got ${JSON.stringify(path)}`);
    });
  });

  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const namespaced = KNOWN_SYSCTL_KEYS.has(key) || KNOWN_SYSCTL_PREFIXES.some((prefix) => key.startsWith(prefix));
    if (!namespaced) add(`.linux.sysctl[${JSON.stringify(key)}]`, 'is not a namespaced sysctl; it would change the host');
    else if (key.startsWith('net.') && !nsSeen.has('network'))
      add(`.linux.sysctl[${JSON.stringify(key)}]`, 'needs a network namespace');
    else if ((key.startsWith('kernel.') && !KNOWN_SYSCTL_KEYS.has(key) || key.startsWith('fs.mqueue.')) && !nsSeen.has('ipc'))
      add(`.linux.sysctl[${JSON.stringify(key)}]`, 'needs an ipc namespace');
    else if (KNOWN_SYSCTL_KEYS.has(key) && !nsSeen.has('uts'))
      add(`.linux.sysctl[${JSON.stringify(key)}]`, 'needs a uts namespace');
  }
  if ((spec.hostname !== undefined && spec.hostname !== '') && !nsSeen.has('uts'))
    add('.hostname', 'setting a hostname needs a new uts namespace');
  if ((spec.domainname !== undefined && spec.domainname !== '') && !nsSeen.has('uts'))
    add('.domainname', 'setting a domainname needs a new uts namespace');
  return p;
}
