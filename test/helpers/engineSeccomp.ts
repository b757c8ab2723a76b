// An engine's seccomp profile (containers-common / Docker format, with archMap
// and includes/excludes) in the OCI form an engine passes to the runtime, through
// the same conversion tsd uses (src/engine/seccompProfile.ts).
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { resolve } from 'node:path';
import { parseEngineProfile, profileToOci } from '../../src/engine/seccompProfile.js';
import type { Seccomp } from '../../src/spec/types.js';

export const ENGINE_PROFILE = process.env.TSRUN_ENGINE_SECCOMP ?? resolve(import.meta.dirname, '../../test-work/containers-seccomp.json');
export const haveEngineProfile = existsSync(ENGINE_PROFILE);

export function engineProfileToOci(caps: string[], arch = process.arch): Seccomp {
  return profileToOci(parseEngineProfile(readFileSync(ENGINE_PROFILE, 'utf8'), ENGINE_PROFILE), { caps, arch, kernel: release() });
}
