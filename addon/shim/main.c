/* tsrun-shim: main, daemonizing and the create report (docs/shim.md).
 *
 *   tsrun-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --dir DIR
 *              [--tty] [--stdin] [--log-max-size BYTES] [--log-max-file N] [--no-log]
 *              [--runtime-timeout SECONDS]
 *
 * The process the engine starts forks and waits on a pipe for the child's
 * report: "OK <init pid>" on stdout and exit 0 once the container is created,
 * or the runtime's message on stderr and exit 1. The child is the shim: a
 * session leader and child subreaper in "/", stdio on /dev/null, every other
 * inherited fd closed. It listens on DIR/shim.sock before it runs the
 * runtime's create, and serves until DELETE. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "shim.h"

struct config g_cfg = {.log_max_size = 10LL << 20, .log_max_file = 3, .runtime_timeout = 60};
int g_dirfd = -1;
static int g_report = -1;

void dir_path(char *out, size_t size, const char *name) { snprintf(out, size, "%s/%s", g_cfg.dir, name); }

void shim_exit(int code) {
  if (g_dirfd >= 0) {
    unlinkat(g_dirfd, "shim.sock", 0);
    unlinkat(g_dirfd, "shim.pid", 0);
  }
  _exit(code);
}

/* The child's one report to the first process: '0' or '1', then the line. */
static void report(int ok, const char *line) {
  char buf[1200];
  int n = snprintf(buf, sizeof buf, "%c%s\n", ok ? '0' : '1', line);
  if (write(g_report, buf, (size_t)n) < 0) { /* the engine is gone: nothing to tell */
  }
  close(g_report);
  g_report = -1;
}

/* A failed create: the report, and nothing left behind (the engine removes DIR). */
__attribute__((noreturn)) static void create_failed(const char *msg) {
  unlinkat(g_dirfd, "console.sock", 0);
  unlinkat(g_dirfd, "shim.sock", 0);
  unlinkat(g_dirfd, "shim.pid", 0);
  report(0, msg);
  _exit(1);
}

/* The container is created but the shim cannot hold it: delete it again. */
__attribute__((noreturn)) static void created_but_failed(const char *msg) {
  const char *args[] = {"delete", "--force", g_cfg.id, NULL};
  const int none[3] = {-1, -1, -1};
  struct rt_result res = {.err_fd = -1};
  run_runtime(args, none, &res);
  create_failed(msg);
}

/* The first process: relays the child's report and exits with it. */
__attribute__((noreturn)) static void relay(int fd) {
  char buf[1200];
  size_t len = 0;
  ssize_t n;
  while (len < sizeof buf && ((n = read(fd, buf + len, sizeof buf - len)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) len += (size_t)n;
  if (len < 2) {
    fprintf(stderr, "tsrun-shim: the shim exited before it reported\n");
    exit(1);
  }
  int ok = buf[0] == '0';
  if (fwrite(buf + 1, 1, len - 1, ok ? stdout : stderr) != len - 1) exit(1);
  exit(ok ? 0 : 1);
}

static void usage(const char *why) {
  fprintf(stderr,
          "tsrun-shim: %s\nusage: tsrun-shim --id ID --bundle DIR --runtime PATH --runtime-root DIR --dir DIR\n"
          "                  [--tty] [--stdin] [--log-max-size BYTES] [--log-max-file N] [--no-log]\n"
          "                  [--runtime-timeout SECONDS]\n",
          why);
  exit(2);
}

static void parse_args(int argc, char **argv) {
  enum { O_ID = 1, O_BUNDLE, O_RUNTIME, O_ROOT, O_DIR, O_TTY, O_STDIN, O_MAXSIZE, O_MAXFILE, O_NOLOG, O_TIMEOUT };
  static const struct option opts[] = {
      {"id", required_argument, NULL, O_ID},         {"bundle", required_argument, NULL, O_BUNDLE},
      {"runtime", required_argument, NULL, O_RUNTIME}, {"runtime-root", required_argument, NULL, O_ROOT},
      {"dir", required_argument, NULL, O_DIR},       {"tty", no_argument, NULL, O_TTY},
      {"stdin", no_argument, NULL, O_STDIN},         {"log-max-size", required_argument, NULL, O_MAXSIZE},
      {"log-max-file", required_argument, NULL, O_MAXFILE}, {"no-log", no_argument, NULL, O_NOLOG},
      {"runtime-timeout", required_argument, NULL, O_TIMEOUT},
      {NULL, 0, NULL, 0}};
  int o;
  char *end;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
      case O_ID: g_cfg.id = optarg; break;
      case O_BUNDLE: g_cfg.bundle = optarg; break;
      case O_RUNTIME: g_cfg.runtime = optarg; break;
      case O_ROOT: g_cfg.runtime_root = optarg; break;
      case O_DIR: g_cfg.dir = optarg; break;
      case O_TTY: g_cfg.tty = 1; break;
      case O_STDIN: g_cfg.stdin = 1; break;
      case O_NOLOG: g_cfg.no_log = 1; break;
      case O_MAXSIZE:
        g_cfg.log_max_size = strtoll(optarg, &end, 10);
        if (*end || g_cfg.log_max_size < 0) usage("--log-max-size takes a number of bytes");
        break;
      case O_MAXFILE:
        g_cfg.log_max_file = (int)strtol(optarg, &end, 10);
        if (*end || g_cfg.log_max_file < 1 || g_cfg.log_max_file > 100) usage("--log-max-file takes 1 to 100");
        break;
      case O_TIMEOUT:
        g_cfg.runtime_timeout = strtod(optarg, &end);
        if (*end || end == optarg || !(g_cfg.runtime_timeout >= 0) || g_cfg.runtime_timeout > 86400)
          usage("--runtime-timeout takes 0 (no limit) to 86400 seconds");
        break;
      default: usage("unknown option");
    }
  }
  if (optind != argc) usage("unexpected argument");
  if (!g_cfg.id || !g_cfg.bundle || !g_cfg.runtime || !g_cfg.runtime_root || !g_cfg.dir)
    usage("--id, --bundle, --runtime, --runtime-root and --dir are required");
  if (g_cfg.dir[0] != '/') usage("--dir must be absolute");
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  int rp[2];
  if (pipe2(rp, O_CLOEXEC) < 0) {
    perror("tsrun-shim: pipe2");
    return 1;
  }
  fflush(NULL);
  pid_t child = fork();
  if (child < 0) {
    perror("tsrun-shim: fork");
    return 1;
  }
  if (child > 0) {
    close(rp[1]);
    relay(rp[0]);
  }

  /* The shim. Nothing of the engine's stays open here: not its stdio (a reader
   * of the first process's stdout would otherwise wait on us), no other fd. */
  close(rp[0]);
  g_report = rp[1];
  if (g_report > 3) syscall(SYS_close_range, 3, g_report - 1, 0);
  syscall(SYS_close_range, g_report + 1, ~0U, 0);
  int null = open("/dev/null", O_RDWR);
  for (int i = 0; i < 3; i++)
    if (null != i) dup2(null, i);
  if (null > 2) close(null);
  setsid();
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (chdir("/") < 0) create_failed("chdir /: failed");

  char msg[1200], path[4200];
  g_dirfd = open(g_cfg.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (g_dirfd < 0) {
    snprintf(msg, sizeof msg, "open %s: %s", g_cfg.dir, strerror(errno));
    report(0, msg);
    _exit(1);
  }
  /* A socket left by a killed shim goes before the directory watch starts: its
   * unlink, seen by the watch, would read as the engine removing us. */
  unlinkat(g_dirfd, "shim.sock", 0);
  loop_init();
  dir_path(path, sizeof path, "shim.sock");
  if (control_listen(path) < 0) {
    snprintf(msg, sizeof msg, "listen on %s: %s", path, strerror(errno));
    create_failed(msg);
  }
  char pidbuf[32];
  int pn = snprintf(pidbuf, sizeof pidbuf, "%d\n", (int)getpid());
  if (atomic_write("shim.pid", pidbuf, (size_t)pn) < 0) {
    snprintf(msg, sizeof msg, "write %s/shim.pid: %s", g_cfg.dir, strerror(errno));
    create_failed(msg);
  }

  struct proc *init = proc_new("");
  if (!init) create_failed("out of memory");
  init->tty = g_cfg.tty;
  init->log = !g_cfg.no_log;
  if (init->log) {
    init->lines[0] = malloc(sizeof(struct logline));
    init->lines[1] = malloc(sizeof(struct logline));
    if (!init->lines[0] || !init->lines[1]) create_failed("out of memory");
    init->lines[0]->len = init->lines[1]->len = 0;
  }
  int fds[3] = {-1, -1, -1}, lsock = -1;
  char console[4200], pidfile[4200];
  dir_path(console, sizeof console, "console.sock");
  dir_path(pidfile, sizeof pidfile, "init.pid");
  if (g_cfg.tty) {
    lsock = console_listen(console);
    if (lsock < 0) {
      snprintf(msg, sizeof msg, "listen on %s: %s", console, strerror(errno));
      create_failed(msg);
    }
  } else if (proc_pipes(init, g_cfg.stdin, fds) < 0) {
    snprintf(msg, sizeof msg, "pipe2: %s", strerror(errno));
    create_failed(msg);
  }
  const char *args[12] = {"create", "--bundle", g_cfg.bundle, "--pid-file", pidfile};
  int a = 5;
  if (g_cfg.tty) args[a++] = "--console-socket", args[a++] = console;
  args[a++] = g_cfg.id;
  args[a] = NULL;
  struct rt_result res = {.err_fd = init->err.fd};
  int rc = run_runtime(args, fds, &res);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) close(fds[i]);
  /* A create that timed out may have got half-way: the runtime's state and an init waiting to
   * start are removed like a container the shim cannot take. */
  if (rc < 0 && res.timed_out) created_but_failed(res.msg);
  if (rc < 0) create_failed(res.msg);
  if (g_cfg.tty) {
    int master = console_take(lsock, console);
    if (master < 0) created_but_failed("no pty master came on the console socket");
    proc_take_master(init, master);
  }
  FILE *f = fopen(pidfile, "re");
  long pid = -1;
  if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0) created_but_failed("the runtime wrote no init pid");
  fclose(f);

  oom_init((pid_t)pid);
  log_open();
  proc_watch(init);
  proc_set_pid(init, (pid_t)pid);
  snprintf(msg, sizeof msg, "%s %ld", SHIM_OK, pid);
  report(1, msg);
  loop_run();
}
