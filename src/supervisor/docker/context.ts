// What every resource file of the Docker API is given.
import type { Containers } from '../../engine/containers.js';
import type { Engine } from '../../engine/engine.js';

export interface DaemonSettings {
  dataRoot: string;
  execRoot: string;
  runtime: string;
  registryMirrors: string[];
  insecureRegistries: string[];
  version: string;
  commit: string;
  /** What --init runs, or '' when none was found. */
  initBinary: string;
  /** The default seccomp profile's source: a path, 'unconfined' or 'none (...)'. */
  seccompProfile: string;
}

export interface Api {
  engine: Engine;
  containers: Containers;
  settings: DaemonSettings;
}
