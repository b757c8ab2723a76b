// The seccomp user-notification hand-off (config-linux.md#seccomp): a filter
// with SCMP_ACT_NOTIFY gives the init a notify fd, which it sends us over the
// sync socket; the listener at listenerPath gets the ContainerProcessState as
// the payload and the fd with SCM_RIGHTS.
import { closeSync } from 'node:fs';
import type { Spec, State } from '../spec/types.js';
import { addon } from '../native/addon.js';
import { RuntimeError } from '../common/errors.js';

/** Sends `fd` (always closed here) to the config's listener, for the process `pid` of the container in `state`. */
export function handOverSeccompFd(spec: Spec, fd: number, pid: number, state: State): void {
  const path = spec.linux!.seccomp!.listenerPath!;
  let sock: number;
  try {
    sock = addon().connectUnix(path);
  } catch (e) {
    closeSync(fd);
    throw RuntimeError.fromSystem('connect to the seccomp listener', e, { path, pointer: '/linux/seccomp/listenerPath' });
  }
  try {
    const payload = { ociVersion: spec.ociVersion, fds: ['seccompFd'], pid, metadata: spec.linux!.seccomp!.listenerMetadata ?? '', state };
    addon().sendWithFd(sock, Buffer.from(JSON.stringify(payload)), fd);
  } catch (e) {
    throw RuntimeError.fromSystem('send the seccomp fd to the listener', e, { path, pointer: '/linux/seccomp/listenerPath' });
  } finally {
    closeSync(sock);
    closeSync(fd);
  }
}
