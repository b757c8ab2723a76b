// The first cgroup migration after a quiet spell makes the kernel wait out an
// RCU grace period (rcu_sync_enter in cgroup_threadgroup_rwsem: 7–30 ms here),
// holding cgroup_mutex meanwhile. create, run and exec move a process into the
// container's cgroups ~15 ms from now, after the engine has started. So a
// grandchild pays that wait now, in parallel: it moves itself into the cgroup
// it is already in (a no-op migration) and exits; the container's own join
// then finds the lock on its fast path. Orphaned on purpose, so that nobody
// waits for it; it holds no fd of ours (an engine's pipes see EOF on time).
#define _GNU_SOURCE
#include "warmup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"

void warm_cgroup_migration(void) {
  pid_t child = fork();
  if (child < 0) return;
  if (child > 0) {
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    return;
  }
  if (fork() != 0) _exit(0);
  close_range(0, ~0U, 0);
  char *cg = read_file("/proc/self/cgroup", NULL);
  if (!cg) _exit(0);
  int v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
  char path[PATH_MAX];
  path[0] = 0;
  // Lines are "id:controllers:path"; v2's is "0::path", v1's name their controllers.
  for (char *line = strtok(cg, "\n"); line && !path[0]; line = strtok(NULL, "\n")) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = 0;
    const char *controllers = c1 + 1, *cgpath = c2 + 1;
    if (!strncmp(controllers, "name=", 5)) controllers += 5;
    if (v2 ? *controllers == 0 : *controllers != 0)
      snprintf(path, sizeof path, "/sys/fs/cgroup%s%s%s/cgroup.procs", v2 ? "" : "/", controllers, strcmp(cgpath, "/") ? cgpath : "");
  }
  int fd = path[0] ? open(path, O_WRONLY | O_CLOEXEC) : -1;
  if (fd >= 0) (void)!write(fd, "0", 1);  // "0": the writing process itself
  _exit(0);
}
