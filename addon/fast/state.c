// state: the pre-rendered document with its two holes filled.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handover.h"
#include "io.h"
#include "status.h"
#include "verbs.h"

// The template with "@PID@" (quoted) and @STATUS@ filled in.
static int print_state(const struct fast_state *fs, const char *status) {
  const char *t = fs->template_text;
  const char *pid_hole = strstr(t, "\"@PID@\"");
  const char *status_hole = pid_hole ? strstr(pid_hole, "@STATUS@") : NULL;
  if (!pid_hole || !status_hole) return -1;
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", strcmp(status, "stopped") ? fs->pid : 0L);
  size_t cap = strlen(t) + 64;
  char *out = malloc(cap);
  size_t n = 0;
  memcpy(out + n, t, (size_t)(pid_hole - t)), n += (size_t)(pid_hole - t);
  memcpy(out + n, pid, strlen(pid)), n += strlen(pid);
  const char *mid = pid_hole + 7;
  memcpy(out + n, mid, (size_t)(status_hole - mid)), n += (size_t)(status_hole - mid);
  memcpy(out + n, status, strlen(status)), n += strlen(status);
  const char *rest = status_hole + 8;
  size_t rl = strlen(rest);
  memcpy(out + n, rest, rl), n += rl;
  int rc = write_all(1, out, n);
  free(out);
  return rc;
}

int verb_state(const char *dir, const struct fast_state *fs) {
  if (print_state(fs, status_of(dir, fs)) < 0) to_cli();
  return 0;
}
