// Whether this kernel enforces AppArmor, so that process.apparmorProfile is
// applied (the init asks for the profile change at its execve) rather than
// ignored with a warning.
import { readFileSync } from 'node:fs';

export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}
