// Running CNI plugins as the CNI spec (1.0.0) says: the plugin binary is
// found in CNI_PATH, called with CNI_COMMAND (ADD, DEL, CHECK),
// CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH in its
// environment and its network configuration on stdin (the list's name and
// cniVersion inserted, the previous plugin's result as prevResult, the
// runtimeConfig of the capabilities it declares). Its stdout is a result, or
// with a non-zero exit an error {code, msg, details}; both are validated.
// Plugins run as async child processes: the daemon's loop never waits on one.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError, type ErrorKind } from '../common/errors.js';
import type { Conflist, PluginConfig } from './conflist.js';
import { validateCniError, validateCniResult } from './generated/cniValidators.js';

/** Debian's containernetworking-plugins. */
export const DEFAULT_CNI_PATH = ['/usr/lib/cni', '/opt/cni/bin'];

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; mtu?: number; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

/** Who the call is for. */
export interface CniRuntime {
  containerId: string;
  /** The pinned namespace's path; empty for a DEL whose namespace is gone. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key=value pairs. */
  args?: Record<string, string>;
  /** Values for the capabilities plugins declare (portMappings, ...). */
  capabilityArgs?: Record<string, unknown>;
  cniPath?: string[];
}

/** The spec's well-known error codes → our kinds (100 and above are the plugin's own). */
const KIND_BY_CNI_CODE: Record<number, ErrorKind> = {
  1: 'invalid-argument', // incompatible CNI version
  2: 'invalid-argument', // unsupported field in the network configuration
  3: 'not-found', // container unknown or does not exist
  4: 'invalid-argument', // invalid necessary environment variables
  5: 'system', // I/O failure
  6: 'invalid-argument', // failed to decode content
  7: 'invalid-argument', // invalid network config
  11: 'unavailable', // try again later
};

async function findPlugin(type: string, dirs: string[]): Promise<string> {
  if (!/^[\w.-]+$/.test(type)) throw new RuntimeError({ kind: 'invalid-argument', step: `CNI plugin type ${JSON.stringify(type)}: not a plugin name` });
  for (const d of dirs) {
    const p = join(d, type);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch { /* next directory */ }
  }
  throw new RuntimeError({ kind: 'unavailable', step: `find the CNI plugin ${type}`, detail: `not in ${dirs.join(':')} (install containernetworking-plugins)` });
}

const TIMEOUT_MS = 60_000;

/** One plugin call; the parsed result (ADD), or undefined (DEL, CHECK print nothing). */
export async function execPlugin(command: CniCommand, config: PluginConfig & { name: string; cniVersion: string }, rt: CniRuntime): Promise<CniResult | undefined> {
  const dirs = rt.cniPath ?? DEFAULT_CNI_PATH;
  const binary = await findPlugin(config.type, dirs);
  const step = `CNI ${command} of plugin ${config.type} (network ${config.name}, container ${rt.containerId.slice(0, 12)})`;
  const env: Record<string, string> = {
    // Plugins run iptables and ip from PATH.
    PATH: process.env.PATH ? `${process.env.PATH}:/usr/sbin:/sbin` : '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifname,
    CNI_ARGS: Object.entries(rt.args ?? {}).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: dirs.join(':'),
  };
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(binary, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(RuntimeError.fromSystem(step, e, { path: binary }));
    });
    child.on('close', (c, signal) => {
      clearTimeout(timer);
      resolve({ code: c ?? (signal ? 128 : 1), stdout: out, stderr: err });
    });
    child.stdin.on('error', () => { /* a plugin that exits without reading: its exit tells */ });
    child.stdin.end(JSON.stringify(config));
  });
  if (code !== 0) throw pluginError(step, config.type, code, stdout, stderr);
  if (command !== 'ADD') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new RuntimeError({ kind: 'system', step, detail: `plugin ${config.type} printed no JSON result: ${JSON.stringify(stdout.slice(0, 200))}` });
  }
  if (!validateCniResult(parsed)) {
    const e = validateCniResult.errors?.[0];
    throw new RuntimeError({ kind: 'system', step, detail: `plugin ${config.type} printed an invalid result: ${e?.instancePath || '/'} ${e?.message ?? ''}` });
  }
  return parsed as CniResult;
}

/** A failed call as our error: the plugin's {code, msg, details} when it printed one. */
function pluginError(step: string, plugin: string, exitCode: number, stdout: string, stderr: string): RuntimeError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch { /* not the spec's error */ }
  if (validateCniError(parsed)) {
    const e = parsed as { code: number; msg: string; details?: string };
    return new RuntimeError({ kind: KIND_BY_CNI_CODE[e.code] ?? 'system', step, detail: `plugin ${plugin}: ${e.msg}${e.details ? `: ${e.details}` : ''} (CNI error code ${e.code})` });
  }
  const said = (stderr || stdout).trim().split('\n').slice(-3).join(' ');
  return new RuntimeError({ kind: 'system', step, detail: `plugin ${plugin} exited with status ${exitCode}${said ? `: ${said}` : ''}` });
}

/** The config one plugin of the list gets: its own, plus name, cniVersion, prevResult, runtimeConfig. */
export function pluginInput(list: Conflist, plugin: PluginConfig, prevResult: CniResult | undefined, capabilityArgs: Record<string, unknown> = {}): PluginConfig & { name: string; cniVersion: string } {
  const runtimeConfig = Object.fromEntries(Object.entries(plugin.capabilities ?? {}).filter(([cap, on]) => on && cap in capabilityArgs).map(([cap]) => [cap, capabilityArgs[cap]]));
  return {
    ...plugin,
    name: list.name,
    cniVersion: list.cniVersion,
    ...(prevResult ? { prevResult } : {}),
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
  };
}

/** ADD of every plugin in order, each given the previous one's result; the last result. */
export async function addNetworkList(list: Conflist, rt: CniRuntime): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const p of list.plugins) {
    result = await execPlugin('ADD', pluginInput(list, p, result, rt.capabilityArgs), rt) ?? result;
  }
  if (!result) throw new RuntimeError({ kind: 'system', step: `CNI ADD of network ${list.name}`, detail: 'no plugin returned a result' });
  return result;
}

/**
 * DEL of every plugin in reverse order, each given the ADD's result (the
 * spec's cached result) as prevResult. Every plugin is called even when one
 * fails, so one failure does not leave the others' resources; the first
 * failure is thrown afterwards.
 */
export async function delNetworkList(list: Conflist, rt: CniRuntime, cached: CniResult | undefined): Promise<void> {
  let first: unknown;
  for (const p of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', pluginInput(list, p, cached, rt.capabilityArgs), rt);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** CHECK of every plugin in order against the ADD's result. */
export async function checkNetworkList(list: Conflist, rt: CniRuntime, cached: CniResult): Promise<void> {
  for (const p of list.plugins) await execPlugin('CHECK', pluginInput(list, p, cached, rt.capabilityArgs), rt);
}
