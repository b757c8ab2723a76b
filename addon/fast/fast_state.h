// The sidecar TypeScript writes at create, <root>/<id>/fast.state
// (src/runtime/fastState.ts): a pre-rendered state document with holes for
// pid and status, and the facts status is derived from.
#ifndef TSRUN_FAST_FAST_STATE_H
#define TSRUN_FAST_FAST_STATE_H

#include <limits.h>

#define MAX_LINES 64

struct fast_state {
  long pid;
  char start[32];
  int poststart;
  int poststop;
  const char *procs[MAX_LINES];
  int nprocs;
  const char *rmdirs[MAX_LINES];  // "<leaf 0|1> <dir>", in removal order
  int nrmdirs;
  char freeze_value[16];
  char freeze_file[PATH_MAX];
  const char *template_text;
};

// Parses `text` in place (fs points into it); 0 when it is not a complete
// record or names a cgroup path TypeScript would not have written.
int parse_fast_state(char *text, struct fast_state *fs);

#endif
