// The CLI runs as dist/bun/tsrun, compiled by bun where npm installed it (an
// optional dependency: ~5 ms to start against Node's ~70 here), else as
// bin/tsrun.js on bun or Node; TSRUN_ENGINE=node forces Node. All load the
// same N-API addon.
#define _GNU_SOURCE
#include "handover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef TSRUN_NODE
#define TSRUN_NODE "node"
#endif

// bun's binary as npm lays it out for this machine's architecture.
#if defined(__x86_64__)
#define BUN_PACKAGE "@oven/bun-linux-x64-baseline"
#elif defined(__aarch64__)
#define BUN_PACKAGE "@oven/bun-linux-aarch64"
#endif

static char **g_argv;

void handover_init(char **argv) {
  g_argv = argv;
}

int repo_dir(char *out, size_t size) {
  ssize_t n = readlink("/proc/self/exe", out, size - 1);
  if (n < 0) return -1;
  out[n] = 0;
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(out, '/');
    if (!slash) return -1;
    *slash = 0;
  }
  return 0;
}

// Tells the CLI which fds above stdio its caller handed us, as "fd:dev:ino,...",
// recorded before anything of ours is open: --preserve-fds and LISTEN_FDS may
// pass only these, never an fd the engine or the runtime opens later.
static void record_caller_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return;
  size_t cap = 4096, len = 0;
  char *list = malloc(cap);
  if (!list) _exit(1);
  list[0] = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name);
    struct stat st;
    // Close-on-exec ones are this binary's own (what it inherited survived an exec).
    if (fd <= 2 || fd == dirfd(d) || (fcntl(fd, F_GETFD) & FD_CLOEXEC) || fstat(fd, &st) < 0) continue;
    if (cap - len < 80) {
      cap *= 2;
      list = realloc(list, cap);
      if (!list) _exit(1);
    }
    len += (size_t)snprintf(list + len, cap - len, "%s%d:%llu:%llu", len ? "," : "", fd,
                            (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  }
  closedir(d);
  setenv("TSRUN_INHERITED_FDS", list, 1);
  free(list);
}

void to_cli(void) {
  record_caller_fds();
  char repo[PATH_MAX];
  if (repo_dir(repo, sizeof repo) < 0) {
    perror("tsrun: readlink /proc/self/exe");
    _exit(1);
  }
  char script[PATH_MAX];
  snprintf(script, sizeof script, "%s/bin/tsrun.js", repo);
  int argc = 0;
  while (g_argv[argc]) argc++;
  // Room for the engine, bun's three flags and the script before our arguments.
  char **args = calloc((size_t)argc + 5, sizeof *args);
  if (!args) _exit(1);
  char **tail = args + 4;  // tail[0] = the script, then argv[1..]
  for (int i = 1; i < argc; i++) tail[i] = g_argv[i];
#ifdef BUN_PACKAGE
  const char *engine = getenv("TSRUN_ENGINE");
  if (!engine || strcmp(engine, "node") != 0) {
    // The build compiles the CLI with bun into one executable (scripts/bunBundle.mjs).
    // Older than dist/ (someone ran tsc alone after editing src/), it would run stale
    // code: then bun runs the script instead.
    char compiled[PATH_MAX], main_js[PATH_MAX];
    snprintf(compiled, sizeof compiled, "%s/dist/bun/tsrun", repo);
    snprintf(main_js, sizeof main_js, "%s/dist/cli/main.js", repo);
    struct stat exe_st, js_st;
    int stale = stat(compiled, &exe_st) == 0 && stat(main_js, &js_st) == 0 &&
                (js_st.st_mtim.tv_sec > exe_st.st_mtim.tv_sec ||
                 (js_st.st_mtim.tv_sec == exe_st.st_mtim.tv_sec && js_st.st_mtim.tv_nsec > exe_st.st_mtim.tv_nsec));
    tail[0] = compiled;
    if (!stale) execv(compiled, tail);  // absent (not built): bun runs the script
    tail[0] = script;
    // bun would read bunfig.toml (whose `preload` runs code) and .env files from the
    // working directory, which engines set to the bundle, and may install missing
    // packages: none of that, we run as root.
    args[1] = (char *)"--no-install";
    args[2] = (char *)"--no-env-file";
    args[3] = (char *)"--config=/dev/null";
    // In this checkout's node_modules, or beside it when npm hoisted it (tsrun installed as a dependency).
    static const char *const layouts[] = {"%s/node_modules/" BUN_PACKAGE "/bin/bun", "%s/../" BUN_PACKAGE "/bin/bun"};
    char bun[PATH_MAX];
    for (size_t k = 0; k < sizeof layouts / sizeof *layouts; k++) {
      snprintf(bun, sizeof bun, layouts[k], repo);
      args[0] = bun;
      execv(bun, args);  // absent (not installed on this platform): the next, then Node
    }
  }
#endif
  tail[0] = script;
  tail[-1] = (char *)TSRUN_NODE;
  execv(TSRUN_NODE, tail - 1);
  tail[-1] = (char *)"node";
  execvp("node", tail - 1);
  fprintf(stderr, "tsrun: cannot run node (%s or on PATH): %s\n", TSRUN_NODE, strerror(errno));
  _exit(1);
}
