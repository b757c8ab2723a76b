/* The processes the shim owns (the init, the execs) and their stdio: pipes or
 * a pty master, the output read into one static buffer and handed to the log
 * and to the attach clients, stdin written without ever blocking the loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "shim.h"

struct proc *g_procs;

static void on_output(struct watch *w, uint32_t events);
static void on_stdin_writable(struct watch *w, uint32_t events);

struct proc *proc_new(const char *id) {
  struct proc *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  snprintf(p->id, sizeof p->id, "%s", id);
  p->pid = -1;
  p->in_fd = p->master = p->out.fd = p->err.fd = p->in_w.fd = -1;
  p->out.fn = p->err.fn = on_output;
  p->in_w.fn = on_stdin_writable;
  struct proc **tail = &g_procs;
  while (*tail) tail = &(*tail)->next;
  *tail = p;
  return p;
}

struct proc *proc_find(const char *id) {
  for (struct proc *p = g_procs; p; p = p->next)
    if (strcmp(p->id, id) == 0) return p;
  return NULL;
}

int proc_pipes(struct proc *p, int want_stdin, int fds[3]) {
  int o[2], e[2], i[2] = {-1, -1};
  fds[0] = fds[1] = fds[2] = -1;
  if (pipe2(o, O_CLOEXEC) < 0) return -1;
  if (pipe2(e, O_CLOEXEC) < 0) goto fail_o;
  if (want_stdin && pipe2(i, O_CLOEXEC) < 0) goto fail_e;
  fcntl(o[0], F_SETFL, O_NONBLOCK);
  fcntl(e[0], F_SETFL, O_NONBLOCK);
  if (i[1] >= 0) fcntl(i[1], F_SETFL, O_NONBLOCK);
  p->out.fd = o[0];
  p->err.fd = e[0];
  p->in_fd = i[1];
  fds[0] = i[0];
  fds[1] = o[1];
  fds[2] = e[1];
  return 0;
fail_e:
  close(e[0]), close(e[1]);
fail_o:
  close(o[0]), close(o[1]);
  return -1;
}

void proc_take_master(struct proc *p, int master) {
  fcntl(master, F_SETFL, O_NONBLOCK);
  p->master = master;
  p->out.fd = master;
  p->in_fd = master;
}

void proc_watch(struct proc *p) {
  if (p->reading) return;
  p->reading = 1;
  if (p->out.fd >= 0) watch_add(&p->out, EPOLLIN);
  if (p->err.fd >= 0) watch_add(&p->err, EPOLLIN);
}

int proc_drained(const struct proc *p) { return p->out.fd < 0 && p->err.fd < 0; }

static void stream_eof(struct proc *p, struct watch *w) {
  int stream = w == &p->err ? 2 : 1;
  watch_del(w);
  if (w->fd != p->master) close(w->fd);
  w->fd = -1;
  log_flush(p, stream);
  if (proc_drained(p) && p->exited) clients_exited(p);
}

/* Reads what is there (at most a few chunks, so one busy process cannot starve
 * the others), sending each chunk to the log and to every attach client. */
static void read_some(struct proc *p, struct watch *w, int rounds) {
  static char buf[SHIM_CHUNK];
  int stream = w == &p->err ? 2 : 1;
  char stream_name[2] = {(char)('0' + stream), 0};
  while (rounds-- > 0 && w->fd >= 0) {
    ssize_t n = read(w->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) { /* EOF, or EIO: a pty whose other side is closed everywhere */
      stream_eof(p, w);
      return;
    }
    log_write(p, stream, buf, (size_t)n);
    const char *argv[] = {SHIM_OUT, stream_name, buf};
    const uint32_t lens[] = {(uint32_t)strlen(SHIM_OUT), 1, (uint32_t)n};
    for (struct client *c = g_clients, *next; c; c = next) {
      next = c->next;
      if (c->mode == CLIENT_ATTACH && c->p == p) client_send(c, argv, lens, 3);
    }
  }
}

static void on_output(struct watch *w, uint32_t events) {
  (void)events;
  struct proc *p = NULL;
  for (struct proc *q = g_procs; q && !p; q = q->next)
    if (w == &q->out || w == &q->err) p = q;
  if (p) read_some(p, w, 4);
}

/* Exits reaped before their pid was registered (an exec that ends before its
 * runtime call returns). A few suffice: other unknown children are the
 * runtime's re-parented helpers, which are dropped when the list is full. */
static struct {
  pid_t pid;
  int status;
} g_unclaimed[32];
static unsigned g_unclaimed_next;

void unclaimed_exit(pid_t pid, int status) {
  g_unclaimed[g_unclaimed_next % 32].pid = pid;
  g_unclaimed[g_unclaimed_next % 32].status = status;
  g_unclaimed_next++;
}

void proc_set_pid(struct proc *p, pid_t pid) {
  p->pid = pid;
  for (int i = 0; i < 32; i++)
    if (g_unclaimed[i].pid == pid) {
      g_unclaimed[i].pid = 0;
      proc_exited(p, g_unclaimed[i].status);
      return;
    }
}

void proc_exited(struct proc *p, int status) {
  if (p->exited) return;
  /* What it wrote before it exited goes to the log before the exit is known. */
  if (p->reading) {
    if (p->out.fd >= 0) read_some(p, &p->out, 1 << 20);
    if (p->err.fd >= 0) read_some(p, &p->err, 1 << 20);
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  char time[40];
  rfc3339_now(time);
  int oom = oom_happened();
  char name[200];
  if (p->id[0]) snprintf(name, sizeof name, "exec-%s.exit", p->id);
  else snprintf(name, sizeof name, "exit");
  exit_record_write(name, code, time, oom);
  p->code = code;
  p->oom = oom;
  memcpy(p->time, time, sizeof time);
  p->exited = 1;
  clients_exited(p);
}

static void backlog_done(struct proc *p) {
  free(p->backlog);
  p->backlog = NULL;
  p->backlog_len = p->backlog_off = 0;
  if (p->in_w.fd >= 0) {
    watch_del(&p->in_w);
    close(p->in_w.fd);
    p->in_w.fd = -1;
  }
  clients_pause_stdin(p, 0);
}

int proc_stdin_busy(const struct proc *p) { return p->backlog != NULL; }

void proc_write_stdin(struct proc *p, const char *data, size_t len) {
  if (p->in_fd < 0) return;
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(p->in_fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return; /* EPIPE: nobody reads it any more; the data is dropped */
    off += (size_t)n;
  }
  if (off == len) return;
  p->backlog = malloc(len - off);
  if (!p->backlog) return;
  memcpy(p->backlog, data + off, len - off);
  p->backlog_len = len - off;
  p->backlog_off = 0;
  /* A second watch on the same fd (the master is also watched for output). */
  p->in_w.fd = dup(p->in_fd);
  if (p->in_w.fd >= 0) {
    fcntl(p->in_w.fd, F_SETFD, FD_CLOEXEC);
    watch_add(&p->in_w, EPOLLOUT);
  }
  clients_pause_stdin(p, 1);
}

static void on_stdin_writable(struct watch *w, uint32_t events) {
  struct proc *p = NULL;
  for (struct proc *q = g_procs; q && !p; q = q->next)
    if (w == &q->in_w) p = q;
  if (!p) return;
  if (events & (EPOLLERR | EPOLLHUP)) {
    backlog_done(p);
    return;
  }
  while (p->backlog_off < p->backlog_len) {
    ssize_t n = write(w->fd, p->backlog + p->backlog_off, p->backlog_len - p->backlog_off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0) break;
    p->backlog_off += (size_t)n;
  }
  backlog_done(p);
}

void proc_close_stdin(struct proc *p) {
  if (p->in_fd < 0) return;
  if (p->tty) {
    /* A pty has no half-close: the terminal's end-of-file character is what a
     * reader on the other side sees as EOF. */
    struct termios t;
    char eof = tcgetattr(p->master, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
    proc_write_stdin(p, &eof, 1);
    return;
  }
  if (p->backlog) backlog_done(p);
  close(p->in_fd);
  p->in_fd = -1;
}
