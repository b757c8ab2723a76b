// delete of a stopped container without poststop hooks: what
// src/runtime/delete.ts does when nothing is left to kill. Anything else
// (a live or frozen container, a process left in its cgroup, hooks, an
// unexpected errno) is the CLI's, which repeats the steps idempotently.
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handover.h"
#include "io.h"
#include "status.h"
#include "verbs.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

int verb_delete(const char *dir, const struct fast_state *fs) {
  if (fs->poststop) to_cli();
  int lock = lock_in_status(dir, fs, "stopped");
  for (int i = 0; i < fs->nprocs; i++) {
    size_t len = 0;
    char *pids = read_file(fs->procs[i], &len);
    int busy = pids && strspn(pids, " \n") != len;
    free(pids);
    if (busy) {
      close(lock);
      to_cli();
    }
  }
  for (int i = 0; i < fs->nrmdirs; i++) {
    int leaf = fs->rmdirs[i][0] == '1';
    const char *cg = fs->rmdirs[i] + 2;
    for (int attempt = 0;; attempt++) {
      if (rmdir(cg) == 0 || errno == ENOENT) break;
      if ((errno == EBUSY || errno == ENOTEMPTY) && !leaf) break;
      if (errno == EBUSY && attempt < 200) {
        struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
        continue;
      }
      close(lock);
      to_cli();
    }
  }
  int rc = nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  close(lock);
  if (rc != 0) to_cli();
  return 0;
}
