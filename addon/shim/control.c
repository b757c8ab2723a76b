/* DIR/shim.sock: the engine's requests (docs/shim.md "Messages"). Each
 * connection carries requests answered by one OK or ERR, until an ATTACH turns
 * it into a stream or a WAIT into a wait. Nothing here blocks: answers and
 * stream records are sent with MSG_DONTWAIT, and a client whose socket is full
 * is dropped rather than holding up the container. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "shim.h"

struct client *g_clients;
static struct client *g_dropped;
static struct watch g_listen;

static void on_client(struct watch *w, uint32_t events);

static void on_accept(struct watch *w, uint32_t events) {
  (void)events;
  for (;;) {
    int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    struct client *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      return;
    }
    /* Room for bursts of output (kernel memory, not the shim's). */
    int size = 4 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0)
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    c->w.fd = fd;
    c->w.fn = on_client;
    c->mode = CLIENT_REQUESTS;
    c->next = g_clients;
    g_clients = c;
    watch_add(&c->w, EPOLLIN | EPOLLRDHUP);
  }
}

int control_listen(const char *path) {
  int s = unix_listen(path, SOCK_SEQPACKET, 64, 1);
  if (s < 0) return -1;
  g_listen.fd = s;
  g_listen.fn = on_accept;
  watch_add(&g_listen, EPOLLIN);
  return 0;
}

void client_drop(struct client *c) {
  if (c->dead) return;
  c->dead = 1;
  watch_del(&c->w);
  close(c->w.fd);
  for (struct client **pp = &g_clients; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  c->next = g_dropped;
  g_dropped = c;
}

void clients_free_dropped(void) {
  while (g_dropped) {
    struct client *c = g_dropped;
    g_dropped = c->next;
    free(c);
  }
}

int client_send(struct client *c, const char *const *argv, const uint32_t *lens, uint32_t argc) {
  static char buf[SHIM_MSG_MAX];
  if (c->dead) return -1;
  if (record_size(argv, lens, argc) > sizeof buf) return -1;
  size_t size = record_encode(buf, argv, lens, argc);
  ssize_t n;
  do n = send(c->w.fd, buf, size, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    client_drop(c); /* full (a slow client) or gone */
    return -1;
  }
  return 0;
}

static void send_ok(struct client *c, const char *const *values, uint32_t count) {
  const char *argv[1 + SHIM_OK_MAX_ARGS] = {SHIM_OK};
  for (uint32_t i = 0; i < count && i < SHIM_OK_MAX_ARGS; i++) argv[1 + i] = values[i];
  client_send(c, argv, NULL, 1 + count);
}

/* ERR step syscall errno path pointer detail: the shape of tsrun-init's. */
static void send_err(struct client *c, const char *step, const char *syscall, int err, const char *path,
                     const char *detail) {
  const char *errname = "";
  if (syscall) {
    errname = strerrorname_np(err);
    if (!errname) errname = "EUNKNOWN";
    if (!detail) detail = strerror(err);
  }
  _Static_assert(SYNC_ERR_MIN_ARGS == 6 && SYNC_ERR_MAX_ARGS == 6, "ERR's fields are the ones written here");
  const char *argv[] = {SYNC_ERR, step, syscall ? syscall : "", errname, path ? path : "", "", detail ? detail : ""};
  client_send(c, argv, NULL, 7);
}

void send_exit(struct client *c, struct proc *p) {
  char code[16];
  snprintf(code, sizeof code, "%d", p->code);
  const char *argv[] = {SHIM_EXIT, code, p->time, p->oom ? "1" : "0"};
  client_send(c, argv, NULL, 4);
}

void clients_exited(struct proc *p) {
  for (struct client *c = g_clients, *next; c; c = next) {
    next = c->next;
    if (c->p != p) continue;
    if (c->mode == CLIENT_WAIT) {
      send_exit(c, p);
      c->mode = CLIENT_REQUESTS;
      c->p = NULL;
      if (!c->dead) watch_mod(&c->w, EPOLLIN | EPOLLRDHUP);
    } else if (c->mode == CLIENT_ATTACH && proc_drained(p)) {
      send_exit(c, p);
      client_drop(c);
    }
  }
}

void clients_pause_stdin(struct proc *p, int paused) {
  for (struct client *c = g_clients; c; c = c->next)
    if (c->mode == CLIENT_ATTACH && c->p == p && c->stdin) watch_mod(&c->w, paused ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP);
}

static const char *init_status(const struct proc *p) {
  if (p->exited) return "stopped";
  return p->started ? "running" : "created";
}

void clients_unpark(void) {
  for (struct client *c = g_clients; c; c = c->next)
    if (c->parked) {
      c->parked = 0;
      watch_add(&c->w, EPOLLIN | EPOLLRDHUP);
    }
}

/* A runtime call's failure: ERR with the runtime's last error message. While the call runs
 * the loop is served (runtime.c): the caller is not watched (its next requests wait for this
 * answer), and a client whose next request needs the runtime too is parked, that request left
 * in its socket (on_client), until the call has ended. */
static int runtime_call(struct client *c, const char *step, const char *const *args, const int fds[3]) {
  struct rt_result res = {.err_fd = -1};
  watch_del(&c->w);
  int rc = run_runtime(args, fds, &res);
  if (!c->dead) watch_add(&c->w, EPOLLIN | EPOLLRDHUP);
  clients_unpark();
  if (rc == 0) return 0;
  send_err(c, step, NULL, 0, NULL, res.msg);
  return -1;
}

/* Whether the request waiting in c's socket needs the runtime (peeked: it stays there). */
static int next_needs_runtime(struct client *c) {
  unsigned char head[64];
  ssize_t n = recv(c->w.fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
  if (n < 8) return 0;
  uint32_t argc, len;
  memcpy(&argc, head, 4);
  memcpy(&len, head + 4, 4);
  if (argc < 1 || len > (uint32_t)n - 8) return 0;
  const char *names[] = {SHIM_START, SHIM_KILL, SHIM_EXEC, SHIM_DELETE};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == len && memcmp(head + 8, names[i], len) == 0) return 1;
  return 0;
}

/* A process the requests may name: an exec whose runtime call is still under way is not one yet. */
static struct proc *proc_named(const char *id) {
  struct proc *p = proc_find(id);
  return p && p->id[0] && p->pid < 0 ? NULL : p;
}

static int valid_exec_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 100) return 0;
  for (const char *s = id; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
          *s == '.'))
      return 0;
  return id[0] != '.';
}

static void proc_forget(struct proc *p) {
  for (struct proc **pp = &g_procs; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  if (p->out.fd >= 0) close(p->out.fd);
  if (p->err.fd >= 0) close(p->err.fd);
  if (p->in_fd >= 0 && p->in_fd != p->master) close(p->in_fd);
  if (p->master >= 0 && p->master != p->out.fd) close(p->master);
  free(p);
}

/* Finished execs kept for a late WAIT or ATTACH; older ones are forgotten (the engine WAITs
 * on every exec, so it has the exit long before), with their pid and exit files, so the
 * shim's memory and directory stay flat however many execs a container runs. */
#define EXECS_KEPT 8

static int proc_referenced(const struct proc *p) {
  for (const struct client *c = g_clients; c; c = c->next)
    if (c->p == p) return 1;
  return 0;
}

void execs_trim(void) {
  int finished = 0;
  for (struct proc *p = g_procs; p; p = p->next)
    if (p->id[0] && p->exited && proc_drained(p)) finished++;
  /* g_procs is in start order: the oldest finished ones go first. */
  for (struct proc *p = g_procs, *next; p && finished > EXECS_KEPT; p = next) {
    next = p->next;
    if (!p->id[0] || !p->exited || !proc_drained(p) || p->in_w.fd >= 0 || proc_referenced(p)) continue;
    char name[200];
    snprintf(name, sizeof name, "exec-%s.pid", p->id);
    unlinkat(g_dirfd, name, 0);
    snprintf(name, sizeof name, "exec-%s.exit", p->id);
    unlinkat(g_dirfd, name, 0);
    proc_forget(p);
    finished--;
  }
}

static pid_t read_pid(const char *name) {
  char buf[32];
  int fd = openat(g_dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  long v = strtol(buf, NULL, 10);
  return v > 0 ? (pid_t)v : -1;
}

static void do_exec(struct client *c, struct record *r) {
  const char *id = r->argv[1], *process = r->argv[2];
  int tty = strcmp(r->argv[3], "1") == 0, want_stdin = strcmp(r->argv[4], "1") == 0;
  const char *step = "exec a process in the container";
  if (!valid_exec_id(id)) return send_err(c, step, NULL, 0, NULL, "invalid exec id");
  if (proc_find(id)) return send_err(c, step, NULL, 0, NULL, "exec id already in use");
  struct proc *p = proc_new(id);
  if (!p) return send_err(c, step, "calloc", ENOMEM, NULL, NULL);
  p->tty = tty;
  char pidfile[4200], sockpath[4200], pidname[160];
  snprintf(pidname, sizeof pidname, "exec-%s.pid", id);
  snprintf(pidfile, sizeof pidfile, "%s/%s", g_cfg.dir, pidname);
  /* One name for every exec's console socket: an exec runs the runtime synchronously and the
   * socket is gone before the next, and a name with the exec id would pass sun_path's 108 bytes
   * under an exec root of any length (docs/shim.md). */
  snprintf(sockpath, sizeof sockpath, "%s/exec.sock", g_cfg.dir);
  int fds[3] = {-1, -1, -1}, lsock = -1;
  if (tty) {
    lsock = console_listen(sockpath);
    if (lsock < 0) {
      send_err(c, step, "bind", errno, sockpath, NULL);
      return proc_forget(p);
    }
  } else if (proc_pipes(p, want_stdin, fds) < 0) {
    send_err(c, step, "pipe2", errno, NULL, NULL);
    return proc_forget(p);
  }
  const char *args[16] = {"exec", "--detach", "--pid-file", pidfile, "--process", process};
  int a = 6;
  if (tty) args[a++] = "--console-socket", args[a++] = sockpath;
  args[a++] = g_cfg.id;
  args[a] = NULL;
  int rc = runtime_call(c, step, args, fds);
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0) close(fds[i]);
  if (tty) {
    int master = console_take(lsock, sockpath);
    if (rc == 0 && master < 0) {
      send_err(c, step, NULL, 0, sockpath, "no pty master came on the console socket");
      rc = -1;
    }
    if (master >= 0) {
      if (rc == 0) proc_take_master(p, master);
      else close(master);
    }
  }
  pid_t pid = rc == 0 ? read_pid(pidname) : -1;
  if (rc == 0 && pid < 0) {
    send_err(c, step, "open", errno ? errno : EINVAL, pidfile, "the runtime wrote no exec pid");
    rc = -1;
  }
  if (rc < 0) return proc_forget(p);
  char pids[16];
  snprintf(pids, sizeof pids, "%d", (int)pid);
  const char *v[] = {pids};
  send_ok(c, v, 1);
  proc_set_pid(p, pid);
}

static void do_attach(struct client *c, struct record *r) {
  struct proc *p = proc_named(r->argv[1]);
  if (!p) return send_err(c, "attach to a process", NULL, 0, NULL, "no such exec id");
  c->mode = CLIENT_ATTACH;
  c->p = p;
  c->stdin = strcmp(r->argv[2], "1") == 0;
  proc_watch(p);
  if (p->exited && proc_drained(p)) {
    send_exit(c, p);
    client_drop(c);
  } else if (c->stdin && proc_stdin_busy(p))
    watch_mod(&c->w, EPOLLRDHUP);
}

static int resize(struct proc *p, const char *cols, const char *rows) {
  if (p->master < 0) {
    errno = ENOTTY;
    return -1;
  }
  struct winsize ws = {.ws_row = (unsigned short)atoi(rows), .ws_col = (unsigned short)atoi(cols)};
  return ioctl(p->master, TIOCSWINSZ, &ws);
}

static int is(const struct record *r, const char *name, int min, int max) {
  return strcmp(r->argv[0], name) == 0 && (int)r->argc - 1 >= min && (int)r->argc - 1 <= max;
}
#define IS(r, NAME) is(r, SHIM_##NAME, SHIM_##NAME##_MIN_ARGS, SHIM_##NAME##_MAX_ARGS)

/* One record inside an ATTACH stream. */
static void stream_record(struct client *c, struct record *r) {
  struct proc *p = c->p;
  if (IS(r, IN)) {
    if (c->stdin) proc_write_stdin(p, r->argv[1], r->lens[1]);
  } else if (IS(r, CLOSEIN)) {
    if (c->stdin) proc_close_stdin(p);
  } else if (is(r, SHIM_RESIZE, SHIM_RESIZE_MIN_ARGS - 1, SHIM_RESIZE_MAX_ARGS)) {
    /* docs/shim.md writes it "RESIZE cols rows" inside a stream; protocol.def
     * declares the request's 3 (exec-id first). Both are taken here. */
    int skip = r->argc == 4;
    resize(p, r->argv[1 + skip], r->argv[2 + skip]);
  }
}

static void request(struct client *c, struct record *r) {
  struct proc *init = g_procs;
  const int none[3] = {-1, -1, -1};
  if (IS(r, START)) {
    const char *args[] = {"start", g_cfg.id, NULL};
    if (runtime_call(c, "start the container", args, none) == 0) {
      init->started = 1;
      send_ok(c, NULL, 0);
    }
  } else if (IS(r, KILL)) {
    const char *args[6] = {"kill"};
    int a = 1;
    if (strcmp(r->argv[2], "1") == 0) args[a++] = "--all";
    args[a++] = g_cfg.id;
    args[a++] = r->argv[1];
    args[a] = NULL;
    if (runtime_call(c, "signal the container", args, none) == 0) send_ok(c, NULL, 0);
  } else if (IS(r, EXEC)) {
    do_exec(c, r);
  } else if (IS(r, ATTACH)) {
    do_attach(c, r);
  } else if (IS(r, RESIZE)) {
    struct proc *p = proc_named(r->argv[1]);
    if (!p) send_err(c, "resize the terminal", NULL, 0, NULL, "no such exec id");
    else if (resize(p, r->argv[2], r->argv[3]) < 0) send_err(c, "resize the terminal", "ioctl", errno, NULL, NULL);
    else send_ok(c, NULL, 0);
  } else if (IS(r, WAIT)) {
    struct proc *p = proc_named(r->argv[1]);
    if (!p) send_err(c, "wait for a process", NULL, 0, NULL, "no such exec id");
    else if (p->exited) send_exit(c, p);
    else {
      c->mode = CLIENT_WAIT;
      c->p = p;
      watch_mod(&c->w, EPOLLRDHUP);
    }
  } else if (IS(r, STATE)) {
    char pid[16], code[16] = "";
    snprintf(pid, sizeof pid, "%d", (int)init->pid);
    if (init->exited) snprintf(code, sizeof code, "%d", init->code);
    const char *v[] = {pid, init_status(init), code, init->exited ? init->time : "", init->exited ? (init->oom ? "1" : "0") : ""};
    send_ok(c, v, 5);
  } else if (IS(r, DELETE)) {
    if (init->started && !init->exited) return send_err(c, "delete the container", NULL, 0, NULL, "the container is running");
    const char *args[] = {"delete", "--force", g_cfg.id, NULL};
    if (runtime_call(c, "delete the container", args, none) == 0) {
      send_ok(c, NULL, 0);
      shim_exit(0);
    }
  } else {
    send_err(c, "read a request", NULL, 0, NULL, "unknown request or wrong number of arguments");
  }
}

static void on_client(struct watch *w, uint32_t events) {
  struct client *c = (struct client *)w;
  if (c->parked) return;
  /* Not static: a runtime call serves the loop, so this may run inside another client's
   * request, whose record points into its own buffer. */
  char buf[SHIM_MSG_MAX];
  /* A few messages per wakeup, so that one busy client cannot starve the others. */
  for (int i = 0; i < 16 && !c->dead && (events & EPOLLIN) && c->mode != CLIENT_WAIT; i++) {
    if (c->mode == CLIENT_ATTACH && c->stdin && proc_stdin_busy(c->p)) return;
    if (c->mode == CLIENT_REQUESTS && g_runtime_busy && next_needs_runtime(c)) {
      c->parked = 1;
      watch_del(&c->w);
      return;
    }
    ssize_t n = recv(c->w.fd, buf, sizeof buf, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      client_drop(c);
      return;
    }
    struct record r;
    size_t off = 0;
    if ((size_t)n > sizeof buf || record_parse(buf, (size_t)n, &off, &r) < 0 || r.argc < 1) {
      record_free(&r);
      if (c->mode == CLIENT_REQUESTS) send_err(c, "read a request", NULL, 0, NULL, "malformed message");
      continue;
    }
    if (c->mode == CLIENT_ATTACH) stream_record(c, &r);
    else request(c, &r);
    record_free(&r);
  }
  if (!c->dead && (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) && !(events & EPOLLIN)) client_drop(c);
}
