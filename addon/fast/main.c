// tsrun's front binary. `state`, `start`, `kill` and `delete` of an ordinary container
// are answered natively from the sidecar TypeScript wrote at create
// (<root>/<id>/fast.state: a pre-rendered state document with holes for pid
// and status, and the facts status is derived from). Everything else — other
// verbs, flags it does not know, and every error — execs the TypeScript CLI
// (handover.c), which holds the one implementation of each decision and
// message. So this binary decides nothing new: on any doubt it hands over.
//
// This file reads the argv and picks a verb (one file each: state.c, start.c,
// kill.c, delete.c); fast_state.c parses the sidecar, status.c derives the
// status from it, warmup.c serves create, run and exec before they hand over.
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "fast_state.h"
#include "handover.h"
#include "io.h"
#include "verbs.h"
#include "warmup.h"

// runc's id rule, as src/runtime/containerId.ts checks it.
static int valid_id(const char *id) {
  size_t len = strlen(id);
  if (len == 0 || len > 1024 || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '.')) return 0;
  }
  return 1;
}

// --version from dist/version.txt, which the build writes with what the CLI would print.
static void print_version(void) {
  char repo[PATH_MAX];
  if (repo_dir(repo, sizeof repo) < 0) to_cli();
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/dist/version.txt", repo);
  size_t len = 0;
  char *text = read_file(path, &len);
  if (!text || len == 0 || write_all(1, text, len) < 0) to_cli();
  exit(0);
}

int main(int argc, char **argv) {
  handover_init(argv);
  if (getenv("TSRUN_NO_FAST")) to_cli();
  if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v") || !strcmp(argv[1], "-version"))) print_version();
  const char *root = "/run/tsrun";
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i] + (argv[i][1] == '-' ? 2 : 1);
    const char *eq = strchr(a, '=');
    size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
    int takes = (nlen == 4 && !strncmp(a, "root", 4)) || (nlen == 3 && !strncmp(a, "log", 3)) ||
                (nlen == 10 && !strncmp(a, "log-format", 10)) || (nlen == 8 && !strncmp(a, "rootless", 8)) ||
                (nlen == 4 && !strncmp(a, "criu", 4));
    int flag = nlen == 14 && !strncmp(a, "systemd-cgroup", 14);
    if (!takes && !flag) to_cli();  // --debug, --version, --help, unknown: the CLI's
    if (takes && !eq) {
      if (i + 1 >= argc) to_cli();
      if (nlen == 4 && !strncmp(a, "root", 4)) root = argv[i + 1];
      i++;
    } else if (takes && nlen == 4 && !strncmp(a, "root", 4)) {
      root = eq + 1;
    }
  }
  if (i >= argc) to_cli();
  const char *verb = argv[i];
  if (!strcmp(verb, "create") || !strcmp(verb, "run") || !strcmp(verb, "exec")) {
    warm_cgroup_migration();
    to_cli();
  }
  char **rest = argv + i + 1;
  int nrest = argc - i - 1;
  int is_state = !strcmp(verb, "state"), is_start = !strcmp(verb, "start"), is_kill = !strcmp(verb, "kill");
  int is_delete = !strcmp(verb, "delete") || !strcmp(verb, "rm") || !strcmp(verb, "del");
  if (!(is_state || is_start || is_kill || is_delete)) to_cli();
  // delete --force of a stopped container is the same delete; any other flag is the CLI's.
  while (is_delete && nrest > 0 && (!strcmp(rest[0], "--force") || !strcmp(rest[0], "-f") || !strcmp(rest[0], "--force=true"))) rest++, nrest--;
  for (int k = 0; k < nrest; k++)
    if (rest[k][0] == '-') to_cli();  // any verb flag (kill --all, ...): the CLI's
  if (nrest < 1 || nrest > (is_kill ? 2 : 1) || !valid_id(rest[0])) to_cli();
  int sig = SIGTERM;
  if (is_kill && nrest == 2 && !(sig = parse_signal(rest[1]))) to_cli();

  char dir[PATH_MAX], file[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/%s", root, rest[0]) >= (int)sizeof dir - 32) to_cli();
  snprintf(file, sizeof file, "%s/fast.state", dir);
  char *text = read_file(file, NULL);
  struct fast_state fs;
  if (!text || !parse_fast_state(text, &fs)) to_cli();

  if (is_state) return verb_state(dir, &fs);
  if (is_kill) return verb_kill(dir, &fs, sig);
  if (is_delete) return verb_delete(dir, &fs);
  return verb_start(dir, &fs);
}
