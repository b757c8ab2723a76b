import { DEFAULT_RUNTIME_ROOT } from '../common/defaults.js';
import type { FlagSpec } from '../common/argv.js';

export interface GlobalOptions {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
}

export const GLOBAL_FLAGS: FlagSpec[] = [
  { name: 'root', kind: 'string', help: `root directory for container state (default ${DEFAULT_RUNTIME_ROOT})` },
  { name: 'log', kind: 'string', help: 'append log lines to this file' },
  { name: 'log-format', kind: 'string', help: 'log format: text (default) or json' },
  { name: 'debug', kind: 'bool', help: 'log debug lines too' },
  { name: 'systemd-cgroup', kind: 'bool', help: 'cgroupsPath may be slice:prefix:name; placed where systemd would, written through cgroupfs' },
  { name: 'rootless', kind: 'string', help: 'accepted for compatibility (true|false|auto)' },
  { name: 'criu', kind: 'string', help: 'accepted for compatibility; checkpoint is not supported' },
  { name: 'version', kind: 'bool', alias: ['v'], help: 'print the version' },
  { name: 'help', kind: 'bool', alias: ['h'], help: 'show help' },
];
