// Paying the kernel's wait before a cgroup migration early, in a grandchild.
#ifndef TSRUN_FAST_WARMUP_H
#define TSRUN_FAST_WARMUP_H

// Forks the grandchild that warms cgroup migration and returns at once
// (src/linux/cgroups/migrationWarmup.ts does the same for Node and library callers).
void warm_cgroup_migration(void);

#endif
