#define _GNU_SOURCE
#include "status.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "handover.h"
#include "io.h"

int init_alive(const struct fast_state *fs) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/stat", fs->pid);
  char *stat = read_file(path, NULL);
  if (!stat) return 0;
  char *rp = strrchr(stat, ')');
  int alive = 0;
  if (rp && rp[1] == ' ') {
    char *fields = rp + 2;
    char state = fields[0];
    // starttime is field 22 of stat; after ')' it is the 20th (state is the 1st)
    char *f = fields;
    for (int i = 0; i < 19 && f; i++) {
      f = strchr(f, ' ');
      if (f) f++;
    }
    if (f && state != 'Z' && state != 'X') {
      size_t len = strcspn(f, " ");
      // No recorded start time: we cannot tell it from a process that reused the pid.
      alive = fs->start[0] && strlen(fs->start) == len && !strncmp(f, fs->start, len);
    }
  }
  free(stat);
  return alive;
}

const char *status_of(const char *dir, const struct fast_state *fs) {
  if (!init_alive(fs)) return "stopped";
  char fifo[PATH_MAX];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
  if (access(fifo, F_OK) == 0) return "created";
  if (fs->freeze_file[0]) {
    char *v = read_file(fs->freeze_file, NULL);
    if (v) {
      size_t len = strlen(v);
      while (len && (v[len - 1] == '\n' || v[len - 1] == ' ')) v[--len] = 0;
      int frozen = !strcmp(v, fs->freeze_value);
      free(v);
      if (frozen) return "paused";
    }
  }
  return "running";
}

int lock_in_status(const char *dir, const struct fast_state *fs, const char *status) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/.lock", dir);
  int lock = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (lock < 0 || flock(lock, LOCK_EX) < 0) to_cli();
  if (strcmp(status_of(dir, fs), status)) {
    close(lock);
    to_cli();
  }
  return lock;
}
