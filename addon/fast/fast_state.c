#define _GNU_SOURCE
#include "fast_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// A cgroup path as TypeScript writes them: absolute, below /sys/fs/cgroup, no
// "." or ".." component. A sidecar saying otherwise is not acted on here.
static int cgroup_path_ok(const char *p) {
  if (strncmp(p, "/sys/fs/cgroup/", 15)) return 0;
  for (const char *c = p; (c = strchr(c, '/')) != NULL; c++)
    if (!strncmp(c, "/./", 3) || !strncmp(c, "/../", 4) || !strcmp(c, "/.") || !strcmp(c, "/..")) return 0;
  return 1;
}

int parse_fast_state(char *text, struct fast_state *fs) {
  memset(fs, 0, sizeof *fs);
  if (strncmp(text, "tsrun-fast 1\n", 13)) return 0;
  char *line = text + 13;
  while (*line) {
    char *end = strchr(line, '\n');
    if (!end) return 0;
    *end = 0;
    if (!strcmp(line, "template")) {
      fs->template_text = end + 1;
      return fs->pid > 0;
    }
    if (!strncmp(line, "pid ", 4)) fs->pid = strtol(line + 4, NULL, 10);
    else if (!strncmp(line, "start ", 6)) snprintf(fs->start, sizeof fs->start, "%s", line + 6);
    else if (!strncmp(line, "poststart ", 10)) fs->poststart = atoi(line + 10);
    else if (!strncmp(line, "poststop ", 9)) fs->poststop = atoi(line + 9);
    else if (!strncmp(line, "procs ", 6)) {
      if (fs->nprocs == MAX_LINES || !cgroup_path_ok(line + 6)) return 0;
      fs->procs[fs->nprocs++] = line + 6;
    } else if (!strncmp(line, "rmdir ", 6)) {
      if (fs->nrmdirs == MAX_LINES || (line[6] != '0' && line[6] != '1') || line[7] != ' ' || !cgroup_path_ok(line + 8)) return 0;
      fs->rmdirs[fs->nrmdirs++] = line + 6;
    }
    else if (!strncmp(line, "freeze ", 7)) {
      char *sp = strchr(line + 7, ' ');
      if (!sp) return 0;
      *sp = 0;
      snprintf(fs->freeze_value, sizeof fs->freeze_value, "%s", line + 7);
      snprintf(fs->freeze_file, sizeof fs->freeze_file, "%s", sp + 1);
    }
    line = end + 1;
  }
  return 0;
}
