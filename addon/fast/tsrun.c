// tsrun's front binary. `state`, `start`, `kill` and `delete` of an ordinary container
// are answered natively from the sidecar TypeScript wrote at create
// (<root>/<id>/fast.state: a pre-rendered state document with holes for pid
// and status, and the facts status is derived from). Everything else — other
// verbs, flags it does not know, and every error — execs the TypeScript CLI
// (bin/tsrun.js), which holds the one implementation of each decision and
// message. So this file decides nothing new: on any doubt it hands over.
//
// The CLI runs as dist/bun/tsrun, compiled by bun where npm installed it (an
// optional dependency: ~5 ms to start against Node's ~70 here), else as
// bin/tsrun.js on bun or Node; TSRUN_ENGINE=node forces Node. All load the
// same N-API addon.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TSRUN_NODE
#define TSRUN_NODE "node"
#endif

static char **g_argv;

// The checkout this binary belongs to: <repo>/build/Release/tsrun-cli → <repo>.
static int repo_dir(char *out, size_t size) {
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

// bun's binary as npm lays it out for this machine's architecture.
#if defined(__x86_64__)
#define BUN_PACKAGE "@oven/bun-linux-x64-baseline"
#elif defined(__aarch64__)
#define BUN_PACKAGE "@oven/bun-linux-aarch64"
#endif

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

// Runs the TypeScript CLI with the same arguments; never returns.
static void __attribute__((noreturn)) to_cli(void) {
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

static char *read_file(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
    }
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

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

// A cgroup path as TypeScript writes them: absolute, below /sys/fs/cgroup, no
// "." or ".." component. A sidecar saying otherwise is not acted on here.
static int cgroup_path_ok(const char *p) {
  if (strncmp(p, "/sys/fs/cgroup/", 15)) return 0;
  for (const char *c = p; (c = strchr(c, '/')) != NULL; c++)
    if (!strncmp(c, "/./", 3) || !strncmp(c, "/../", 4) || !strcmp(c, "/.") || !strcmp(c, "/..")) return 0;
  return 1;
}

static int parse_fast_state(char *text, struct fast_state *fs) {
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

// The same live, non-zombie process that started at `start` (pid reuse check).
static int init_alive(const struct fast_state *fs) {
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

static const char *status_of(const char *dir, const struct fast_state *fs) {
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

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

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

static const struct { const char *name; int sig; } SIGNAL_NAMES[] = {
  {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
  {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
  {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
  {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
  {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
  {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

// 15, TERM, SIGTERM (any case); 0 when unknown here (the CLI then decides).
static int parse_signal(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end) return n >= 1 && n <= 64 ? (int)n : 0;
  if (!strncasecmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof SIGNAL_NAMES / sizeof *SIGNAL_NAMES; i++)
    if (!strcasecmp(s, SIGNAL_NAMES[i].name)) return SIGNAL_NAMES[i].sig;
  return 0;
}

// The container's flock (src/runtime/lock.ts), held only if the container is
// in `status`; otherwise the CLI takes over.
static int lock_in_status(const char *dir, const struct fast_state *fs, const char *status) {
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

// start: what src/runtime/start.ts does on its happy path. A report that is not
// the plain "0" (an ERR record, or nothing) is handed to the CLI in start.report.
static int do_start(const char *dir, const struct fast_state *fs) {
  if (fs->poststart) to_cli();
  char path[PATH_MAX];
  int lock = lock_in_status(dir, fs, "created");
  char fifo[PATH_MAX];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    close(lock);
    to_cli();
  }
  char buf[65536];
  size_t have = 0;
  int saw_writer = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      saw_writer = 1;
      if (!init_alive(fs) && have == 0) break;  // the CLI names it
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
      continue;
    }
    if (r < 0) break;
    if (r > 0) {
      saw_writer = 1;
      have += (size_t)r;
      if (have == sizeof buf) break;
      continue;
    }
    break;  // EOF
  }
  close(fd);
  if (have == 1 && buf[0] == '0') {
    unlink(fifo);
    close(lock);
    return 0;
  }
  if (have > 0 || saw_writer) {
    // Consumed: the CLI cannot read it again from the fifo, so it gets it from here.
    snprintf(path, sizeof path, "%s/start.report", dir);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out >= 0) {
      write_all(out, buf, have);
      close(out);
    }
  }
  close(lock);
  to_cli();
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

// delete of a stopped container without poststop hooks: what
// src/runtime/delete.ts does when nothing is left to kill. Anything else
// (a live or frozen container, a process left in its cgroup, hooks, an
// unexpected errno) is the CLI's, which repeats the steps idempotently.
static int do_delete(const char *dir, const struct fast_state *fs) {
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

// The first cgroup migration after a quiet spell makes the kernel wait out an
// RCU grace period (rcu_sync_enter in cgroup_threadgroup_rwsem: 7–30 ms here),
// holding cgroup_mutex meanwhile. create, run and exec move a process into the
// container's cgroups ~15 ms from now, after the engine has started. So a
// grandchild pays that wait now, in parallel: it moves itself into the cgroup
// it is already in (a no-op migration) and exits; the container's own join
// then finds the lock on its fast path. Orphaned on purpose, so that nobody
// waits for it; it holds no fd of ours (an engine's pipes see EOF on time).
static void warm_cgroup_migration(void) {
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
  g_argv = argv;
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

  if (is_state) {
    if (print_state(&fs, status_of(dir, &fs)) < 0) to_cli();
    return 0;
  }
  if (is_kill) {
    // The start time is checked after the pidfd is taken and the signal goes
    // through it: a pid reused in between is never signalled.
    int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)fs.pid, 0);
    if (pidfd < 0 || !strcmp(status_of(dir, &fs), "stopped")) to_cli();
    if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) to_cli();
    close(pidfd);
    return 0;
  }
  if (is_delete) return do_delete(dir, &fs);
  return do_start(dir, &fs);
}
