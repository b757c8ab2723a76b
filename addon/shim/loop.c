/* The one epoll loop. Every watched fd carries its handler (struct watch);
 * SIGCHLD and SIGTERM come through a signalfd; DIR's removal through inotify. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim.h"

static int g_epfd = -1;
static int g_serving; /* loop_run has begun: a runtime call serves the loop while it waits */
static struct watch g_sig, g_dirwatch;

int loop_fd(void) { return g_epfd; }
int loop_serving(void) { return g_serving; }

void watch_add(struct watch *w, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = w};
  epoll_ctl(g_epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

void watch_mod(struct watch *w, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = w};
  epoll_ctl(g_epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void watch_del(struct watch *w) { epoll_ctl(g_epfd, EPOLL_CTL_DEL, w->fd, NULL); }

void reap_children(void) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;
    if (pid == g_rt_pid) { /* the runtime call under way: its own wait takes the status */
      g_rt_status = status;
      g_rt_reaped = 1;
      continue;
    }
    struct proc *p = g_procs;
    while (p && p->pid != pid) p = p->next;
    if (p) proc_exited(p, status);
    else unclaimed_exit(pid, status);
  }
}

static void on_signal(struct watch *w, uint32_t events) {
  (void)events;
  struct signalfd_siginfo si;
  while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si)
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) shim_exit(0);
  reap_children();
}

static void on_dir(struct watch *w, uint32_t events) {
  (void)events;
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n = read(w->fd, buf, sizeof buf);
  for (ssize_t off = 0; off < n;) {
    struct inotify_event *ev = (struct inotify_event *)(buf + off);
    /* DIR, or the socket in it, is gone: nobody can reach this shim any more.
     * (A directory that the shim holds open may report its own deletion only
     * once released, so `rm -rf DIR` is seen as shim.sock's removal.) */
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) shim_exit(0);
    if ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) && ev->len && strcmp(ev->name, "shim.sock") == 0) shim_exit(0);
    off += (ssize_t)sizeof *ev + ev->len;
  }
}

void loop_init(void) {
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  if (g_epfd < 0) {
    perror("epoll_create1");
    exit(1);
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  g_sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  g_sig.fn = on_signal;
  watch_add(&g_sig, EPOLLIN);
  g_dirwatch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  g_dirwatch.fn = on_dir;
  if (g_dirwatch.fd >= 0 && inotify_add_watch(g_dirwatch.fd, g_cfg.dir, IN_DELETE_SELF | IN_MOVE_SELF | IN_DELETE | IN_MOVED_FROM) >= 0)
    watch_add(&g_dirwatch, EPOLLIN);
}

void loop_dispatch(int timeout_ms) {
  struct epoll_event evs[16];
  int n = epoll_wait(g_epfd, evs, 16, timeout_ms);
  for (int i = 0; i < n; i++) {
    struct watch *w = evs[i].data.ptr;
    w->fn(w, evs[i].events);
  }
}

void loop_run(void) {
  g_serving = 1;
  reap_children(); /* exits that happened before the loop ran */
  for (;;) {
    loop_dispatch(-1);
    clients_free_dropped(); /* only now: a later event of this batch may name a dropped client */
    execs_trim();           /* likewise: no event of this batch still names a forgotten exec */
  }
}
