/* Running the OCI runtime binary: fork + exec with exactly the fds it should
 * have (stdin/stdout/stderr, everything else closed), waiting for it through a
 * pidfd (the loop's reaper never sees it), and its last error message: the
 * msg of the last "level":"error" line it wrote to DIR/runtime.log during this
 * call, else the last line of its stderr. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/fdmsg.h"
#include "shim.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

pid_t g_rt_pid;
int g_rt_status, g_rt_reaped, g_runtime_busy;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The string value of "key":"..." in a JSON line, unescaped into out. */
static int json_string(const char *line, const char *key, char *out, size_t size) {
  const char *p = strstr(line, key);
  if (!p) return -1;
  p += strlen(key);
  size_t o = 0;
  for (; *p && *p != '"' && o + 1 < size; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      switch (*p) {
        case 'n': out[o++] = ' '; break;
        case 't': out[o++] = ' '; break;
        case 'u':
          /* \u00XX: keep ASCII, replace the rest. */
          if (p[1] && p[2] && p[3] && p[4]) {
            char hex[5] = {p[1], p[2], p[3], p[4], 0};
            long v = strtol(hex, NULL, 16);
            out[o++] = v >= 0x20 && v < 0x7f ? (char)v : '?';
            p += 4;
          }
          break;
        default: out[o++] = *p;
      }
    } else
      out[o++] = *p;
  }
  out[o] = '\0';
  return 0;
}

static long long log_size(void) {
  struct stat st;
  return fstatat(g_dirfd, "runtime.log", &st, 0) == 0 ? st.st_size : 0;
}

/* The msg of the last error line of runtime.log past offset `from`. */
static int log_error(long long from, char *out, size_t size) {
  static char buf[16384];
  int fd = openat(g_dirfd, "runtime.log", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct stat st;
  int found = -1;
  if (fstat(fd, &st) == 0 && st.st_size > from) {
    long long start = st.st_size - from > (long long)sizeof buf - 1 ? st.st_size - ((long long)sizeof buf - 1) : from;
    ssize_t n = pread(fd, buf, sizeof buf - 1, start);
    if (n > 0) {
      buf[n] = '\0';
      char *save = NULL;
      for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, "\"level\":\"error\"") && json_string(line, "\"msg\":\"", out, size) == 0) found = 0;
    }
  }
  close(fd);
  return found;
}

/* The last non-empty line of text, trimmed, into out. */
static int last_line(char *text, size_t len, char *out, size_t size) {
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  if (len == 0) return -1;
  size_t start = len;
  while (start > 0 && text[start - 1] != '\n') start--;
  snprintf(out, size, "%.*s", (int)(len - start), text + start);
  return 0;
}

int run_runtime(const char *const *args, const int fds[3], struct rt_result *res) {
  static char logpath[4200];
  snprintf(logpath, sizeof logpath, "%s/runtime.log", g_cfg.dir);
  const char *argv[64];
  int a = 0;
  argv[a++] = g_cfg.runtime;
  argv[a++] = "--root";
  argv[a++] = g_cfg.runtime_root;
  argv[a++] = "--log";
  argv[a++] = logpath;
  argv[a++] = "--log-format";
  argv[a++] = "json";
  for (int i = 0; args[i] && a < 63; i++) argv[a++] = args[i];
  argv[a] = NULL;

  res->status = -1;
  res->timed_out = 0;
  res->msg[0] = '\0';
  int cap[2] = {-1, -1};
  if (fds[2] < 0 && pipe2(cap, O_CLOEXEC | O_NONBLOCK) < 0) cap[0] = cap[1] = -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int child_fds[3] = {fds[0] >= 0 ? fds[0] : devnull, fds[1] >= 0 ? fds[1] : devnull,
                      fds[2] >= 0 ? fds[2] : (cap[1] >= 0 ? cap[1] : devnull)};
  long long from = log_size();

  pid_t pid = fork();
  if (pid == 0) {
    /* A group of its own, so that a timeout kills what it started too (a shell's children). */
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    /* The sources are all >= 3 (0-2 are the shim's /dev/null), so dup2 clears close-on-exec. */
    for (int i = 0; i < 3; i++)
      if (dup2(child_fds[i], i) < 0) _exit(127);
    syscall(SYS_close_range, 3, ~0U, 0);
    execv(argv[0], (char *const *)argv);
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int e = errno;
  if (devnull >= 0) close(devnull);
  if (cap[1] >= 0) close(cap[1]);
  if (pid < 0) {
    if (cap[0] >= 0) close(cap[0]);
    snprintf(res->msg, sizeof res->msg, "fork: %s", strerror(e));
    return -1;
  }

  setpgid(pid, pid); /* both sides, so the group exists before any kill */
  static char err[4096];
  size_t elen = 0;
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  /* The deadline of --runtime-timeout (0: none); past it the whole group is killed. */
  long long limit_ms = (long long)(g_cfg.runtime_timeout * 1000);
  long long deadline = limit_ms > 0 ? now_ms() + limit_ms : -1;
  int timed_out = 0;
  /* Once the loop runs, it is served while the runtime runs (STATE, WAIT, ATTACH, the output):
   * requests that need the runtime themselves are parked until this call ends (control.c). */
  int serve = loop_serving();
  g_rt_pid = pid;
  g_rt_reaped = 0;
  if (serve) g_runtime_busy = 1;
  for (;;) {
    struct pollfd pf[3] = {{pidfd, POLLIN, 0}, {cap[0], POLLIN, 0}, {serve ? loop_fd() : -1, POLLIN, 0}};
    int wait_ms = pidfd >= 0 ? -1 : 10;
    if (deadline >= 0 && !timed_out) {
      long long left = deadline - now_ms();
      if (left <= 0) {
        timed_out = 1;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        left = 0;
      }
      if (wait_ms < 0 || left < wait_ms) wait_ms = (int)(left > 0 ? left : (pidfd >= 0 ? -1 : 10));
    }
    if (pidfd >= 0 || cap[0] >= 0 || serve) {
      int r = poll(pf, 3, wait_ms);
      if (r < 0 && errno != EINTR) break;
      if (r > 0 && (pf[2].revents & POLLIN)) loop_dispatch(0);
    } else
      usleep(1000);
    if (cap[0] >= 0) {
      for (;;) {
        if (elen == sizeof err) {
          memmove(err, err + sizeof err / 2, sizeof err / 2); /* keep the end */
          elen = sizeof err / 2;
        }
        ssize_t n = read(cap[0], err + elen, sizeof err - elen);
        if (n > 0) elen += (size_t)n;
        else {
          if (n == 0) {
            close(cap[0]);
            cap[0] = -1;
          }
          break;
        }
      }
    }
    if (g_rt_reaped) { /* the loop's reaper got it first */
      res->status = g_rt_status;
      break;
    }
    int status;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      res->status = status;
      break;
    }
    if (w < 0 && errno != EINTR) break;
  }
  g_rt_pid = 0;
  g_runtime_busy = 0;
  if (pidfd >= 0) close(pidfd);
  if (cap[0] < 0 && res->err_fd >= 0) { /* stderr was a pipe of the container's: what is in it */
    ssize_t n;
    while (elen < sizeof err && (n = read(res->err_fd, err + elen, sizeof err - elen)) > 0) elen += (size_t)n;
  }
  if (cap[0] >= 0) {
    ssize_t n;
    while (elen < sizeof err && (n = read(cap[0], err + elen, sizeof err - elen)) > 0) elen += (size_t)n;
    close(cap[0]);
  }
  if (timed_out) {
    kill(-pid, SIGKILL); /* what is left of its group (the leader has been reaped) */
    snprintf(res->msg, sizeof res->msg, "runtime %s timed out after %g s", args[0], g_cfg.runtime_timeout);
    res->timed_out = 1;
    return -1;
  }
  if (WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0) return 0;
  if (log_error(from, res->msg, sizeof res->msg) == 0) return -1;
  if (last_line(err, elen, res->msg, sizeof res->msg) == 0) return -1;
  if (WIFSIGNALED(res->status))
    snprintf(res->msg, sizeof res->msg, "runtime %s was killed by signal %d", args[0], WTERMSIG(res->status));
  else
    snprintf(res->msg, sizeof res->msg, "runtime %s exited with status %d", args[0], WEXITSTATUS(res->status));
  return -1;
}

int unix_listen(const char *path, int type, int backlog, int owner_only) {
  int s = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return -1;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    close(s);
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(sa.sun_path, path);
  unlink(path);
  mode_t old = owner_only ? umask(0177) : 0; /* then 0600 from its first moment */
  int rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
  if (owner_only) umask(old);
  if (rc < 0 || listen(s, backlog) < 0) {
    int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  return s;
}

int console_listen(const char *path) {
  return unix_listen(path, SOCK_STREAM, 4, 0);
}

int console_take(int lsock, const char *path) {
  int master = -1;
  int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  if (c >= 0) {
    char buf[512];
    int truncated;
    fdmsg_recv(c, buf, sizeof buf, &master, &truncated);
    close(c);
  }
  close(lsock);
  unlink(path);
  return master;
}
