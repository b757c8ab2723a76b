// The body of POST /containers/create, checked by hand before use (ajv
// validators compiled at build time are the next step): every field this
// daemon reads must have Docker's type, and a wrong one is refused naming it.
// Fields it does not read are ignored, as Docker ignores unknown ones.
import { BadRequest } from '../http/errors.js';
import type { ContainerConfig, HostConfig } from '../../engine/containers.js';
import { parseRestartPolicy } from '../../engine/restartPolicy.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function stringList(v: unknown, field: string): string[] | null {
  if (v === undefined || v === null) return null;
  // Docker's strslice: a plain string is one element.
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  throw new BadRequest(`${field}: want an array of strings`);
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new BadRequest(`${field}: want a string`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new BadRequest(`${field}: want true or false`);
  return v;
}

export function parseCreateBody(body: unknown): { config: ContainerConfig; hostConfig: HostConfig; warnings: string[] } {
  if (!isObj(body)) throw new BadRequest('request body: want a JSON object (the container config)');
  const image = str(body.Image, 'Image');
  if (!image) throw new BadRequest('Image: missing (which image to create the container from)');
  const labels = body.Labels ?? {};
  if (!isObj(labels) || !Object.values(labels).every((v) => typeof v === 'string')) throw new BadRequest('Labels: want an object of strings');
  let stopTimeout: number | undefined;
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) {
    if (typeof body.StopTimeout !== 'number' || !Number.isInteger(body.StopTimeout)) throw new BadRequest('StopTimeout: want an integer (seconds)');
    stopTimeout = body.StopTimeout;
  }
  const config: ContainerConfig = {
    Hostname: str(body.Hostname, 'Hostname'),
    User: str(body.User, 'User'),
    AttachStdin: bool(body.AttachStdin, 'AttachStdin'),
    AttachStdout: bool(body.AttachStdout, 'AttachStdout'),
    AttachStderr: bool(body.AttachStderr, 'AttachStderr'),
    Tty: bool(body.Tty, 'Tty'),
    OpenStdin: bool(body.OpenStdin, 'OpenStdin'),
    StdinOnce: bool(body.StdinOnce, 'StdinOnce'),
    Env: stringList(body.Env, 'Env') ?? [],
    Cmd: stringList(body.Cmd, 'Cmd'),
    Image: image,
    WorkingDir: str(body.WorkingDir, 'WorkingDir'),
    Entrypoint: stringList(body.Entrypoint, 'Entrypoint'),
    Labels: labels as Record<string, string>,
    ...(body.StopSignal ? { StopSignal: str(body.StopSignal, 'StopSignal') } : {}),
    ...(stopTimeout !== undefined ? { StopTimeout: stopTimeout } : {}),
  };
  for (const e of config.Env) if (!e || e.startsWith('=')) throw new BadRequest(`Env: invalid entry ${JSON.stringify(e)}: want KEY=VALUE`);
  const h = body.HostConfig ?? {};
  if (!isObj(h)) throw new BadRequest('HostConfig: want an object');
  const hostConfig: HostConfig = {
    AutoRemove: bool(h.AutoRemove, 'HostConfig.AutoRemove'),
    NetworkMode: str(h.NetworkMode, 'HostConfig.NetworkMode') || 'default',
    Binds: stringList(h.Binds, 'HostConfig.Binds'),
  };
  const restart = parseRestartPolicy(h.RestartPolicy);
  if (typeof restart === 'string') throw new BadRequest(restart);
  if (restart.Name !== 'no' && hostConfig.AutoRemove) throw new BadRequest('HostConfig.RestartPolicy: conflicting options: AutoRemove and restart policy');
  hostConfig.RestartPolicy = restart;
  // What a client may set that this daemon does not do yet: said, not silently dropped.
  // (NetworkMode default/bridge runs as none until networks exist; the docs say so,
  // a warning would go to every `docker run`'s stderr.)
  const warnings: string[] = [];
  for (const k of ['Memory', 'NanoCpus', 'CpuShares', 'PidsLimit']) if (typeof h[k] === 'number' && h[k] !== 0) warnings.push(`HostConfig.${k} is not applied by this daemon yet`);
  if (h.Privileged === true) warnings.push('HostConfig.Privileged is not applied by this daemon yet');
  return { config, hostConfig, warnings };
}
