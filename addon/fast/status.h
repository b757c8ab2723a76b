// A container's status derived from its fast.state, as src/runtime/status.ts
// derives it, and the container's lock held in a given status.
#ifndef TSRUN_FAST_STATUS_H
#define TSRUN_FAST_STATUS_H

#include "fast_state.h"

// The same live, non-zombie process that started at fs->start (pid reuse check).
int init_alive(const struct fast_state *fs);
// "stopped", "created", "paused" or "running"; dir is <root>/<id>.
const char *status_of(const char *dir, const struct fast_state *fs);
// The container's flock (src/runtime/lock.ts), held only if the container is
// in `status`; otherwise the CLI takes over. Returns the lock's fd.
int lock_in_status(const char *dir, const struct fast_state *fs, const char *status);

#endif
