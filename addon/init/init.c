/* tsrun-init: the native helper that the runtime's spawned child execs at once
 * (process model 2 in docs/ARCHITECTURE.md). It is a normal single-threaded
 * program: it reads a launch plan that TypeScript built, performs it step by
 * step, and reports over the sync socket. It holds no policy: the order and the
 * content of every step come from the plan; the ops and messages it knows are
 * declared in addon/protocol.def.
 *
 * argv: tsrun-init SYNC_FD PLAN_FD PRESERVE_FDS CONSOLE_FD
 *
 * Stage 1 (host side) runs the ops up to `clone`, then reports the init's pid
 * and exits. The init (pid 1 of a new pid namespace, a sibling of stage 1
 * thanks to CLONE_PARENT so that it is a child of the runtime) runs the rest
 * and finally execve()s the container process.
 *
 * This file is the main flow and the handshake with the runtime (GO, READY,
 * exec.fifo); the steps themselves are in namespaces.c, rootfs.c, process.c
 * and hooks.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ops.h"
#include "plan.h"
#include "protocol.h"
#include "rootfs.h"
#include "sync.h"

/* An O_PATH fd of exec.fifo itself, never of the state directory: a directory
 * fd held through the created state is a way back to the host (`fd/N/../..`). */
static int g_fifo_path_fd = -1;

/* GO may come with a sealed memfd holding the state documents that
 * createContainer and startContainer hooks read on stdin, as one record
 * [creating-state, created-state]: GO STATES + fd. A memfd, not the message
 * itself: with annotations near Kubernetes' 256 KiB the documents outgrow a
 * socket message. */
static void wait_go(void) {
  static char buf[65536];
  struct record m;
  int fd = sync_recv(&m, buf, sizeof buf);
  if (m.argc < 1 + SYNC_GO_MIN_ARGS || m.argc > 1 + SYNC_GO_MAX_ARGS || strcmp(m.argv[0], SYNC_GO) != 0)
    fail("wait for the runtime", NULL, 0, NULL, "unexpected message");
  if (m.argc == 2 && strcmp(m.argv[1], SYNC_WORD_STATES) == 0) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) fail("read the hooks' state documents", "fstat", fd < 0 ? EBADF : errno, NULL, NULL);
    char *data = malloc((size_t)st.st_size + 1);
    if (!data || pread(fd, data, (size_t)st.st_size, 0) != st.st_size) fail("read the hooks' state documents", "pread", errno, NULL, NULL);
    struct record states;
    size_t off = 0;
    if (record_parse(data, (size_t)st.st_size, &off, &states) < 0 || states.argc != 2)
      fail("read the hooks' state documents", NULL, 0, NULL, "malformed record");
    hooks_set_states(states.argv[0], states.argv[1]);
  }
  if (fd >= 0) close(fd);
}

void op_wait_go(struct record *r) {
  (void)r;
  wait_go();
}

/* Kept as an O_PATH fd so the init can reach the fifo after pivot_root. */
void op_exec_fifo(struct record *r) {
  g_fifo_path_fd = open(r->argv[2], O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (g_fifo_path_fd < 0) fail("open exec.fifo", "open", errno, r->argv[2], NULL);
  struct stat st;
  if (fstat(g_fifo_path_fd, &st) < 0) fail("open exec.fifo", "fstat", errno, r->argv[2], NULL);
  if (!S_ISFIFO(st.st_mode)) fail("open exec.fifo", NULL, 0, r->argv[2], "not a fifo");
}

void op_ready(struct record *r) {
  (void)r;
  const char *msg[] = {SYNC_READY};
  sync_send(msg, 1);
}

/* Blocks until `tsrun start` opens exec.fifo for reading. From
 * then on `start` reads this fifo until EOF, which comes with the execve (the
 * fd is close-on-exec): "0" means started, an ERR record after it means not. */
void op_fifo_wait(struct record *r) {
  (void)r;
  int fd;
  do fd = reopen_fd(g_fifo_path_fd, O_WRONLY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) _exit(1); /* deleted before start: nothing to report to */
  close(g_fifo_path_fd);
  g_fifo_path_fd = -1;
  g_fifo_fd = fd;
}

/* The startContainer hooks passed; only execve (and seccomp, where the plan
 * loads it last) remains. */
void op_started(struct record *r) {
  (void)r;
  if (write(g_fifo_fd, FIFO_REPORT_STARTED, sizeof FIFO_REPORT_STARTED - 1) != sizeof FIFO_REPORT_STARTED - 1) _exit(1);
}

struct op {
  const char *name;
  void (*run)(struct record *);
  uint32_t arity;
  int variadic;
};

#define FIXED 0
#define VARIADIC 1
static const struct op OPS[] = {
#define PLAN_OP(ident, name, arity, shape, args) {name, op_##ident, arity, shape},
#include "../protocol.def"
};
#undef FIXED
#undef VARIADIC

/* The op a plan record names, its length checked against the declaration. */
static const struct op *find_op(const struct record *r) {
  for (size_t k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
    const struct op *op = &OPS[k];
    if (strcmp(op->name, r->argv[0]) != 0) continue;
    uint32_t nargs = r->argc - 2;
    if (nargs < op->arity || (!op->variadic && nargs > op->arity))
      fail("read the launch plan", NULL, 0, r->argv[0], "wrong number of arguments for this step");
    return op;
  }
  fail("read the launch plan", NULL, 0, r->argv[0], "unknown plan step");
}

static void set_cloexec(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* Closes every inherited fd that is neither stdio, a preserved fd, nor ours. */
static void close_strays(int preserve, int keep1, int keep2, int keep3) {
  int keep[3] = {keep1, keep2, keep3};
  unsigned int from = 3 + (unsigned int)preserve;
  for (int i = 0; i < 3; i++)
    for (int j = i + 1; j < 3; j++)
      if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
  for (int i = 0; i < 3; i++) {
    if (keep[i] < (int)from) continue;
    if ((unsigned int)keep[i] > from) syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
    from = (unsigned int)keep[i] + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "tsrun-init is started by tsrun; it is not meant to be run by hand\n");
    return 2;
  }
  /* Not dumpable from the first instruction until execve (which resets it): no
   * process of the container, even one with our uid in our pid namespace, may
   * open /proc/<init>/fd/N (the fifo, the sync socket), /proc/<init>/mem or
   * ptrace us while we still hold runtime fds and run unfiltered. The mm, and
   * the flag with it, is inherited by the init that stage 1 clones. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    fprintf(stderr, "tsrun-init: prctl(PR_SET_DUMPABLE): %s\n", strerror(errno));
    return 1;
  }
  g_sync_fd = atoi(argv[1]);
  int plan_fd = atoi(argv[2]);
  int preserve = atoi(argv[3]);
  g_console_fd = atoi(argv[4]);
  set_cloexec(g_sync_fd);
  set_cloexec(plan_fd);
  set_cloexec(g_console_fd);
  close_strays(preserve, g_sync_fd, plan_fd, g_console_fd);
  /* Device nodes and mount targets get exactly the modes the plan gives; the
   * container's own umask is set by the plan's `umask` step. */
  umask(0);

  struct stat st;
  if (fstat(plan_fd, &st) < 0) fail("read the launch plan", "fstat", errno, NULL, NULL);
  int seals = fcntl(plan_fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_WRITE)) fail("read the launch plan", "fcntl", seals < 0 ? errno : 0, NULL, "the plan memfd is not sealed");
  char *plan = malloc((size_t)st.st_size + 1);
  if (!plan || pread(plan_fd, plan, (size_t)st.st_size, 0) != st.st_size) fail("read the launch plan", "pread", errno, NULL, NULL);
  close(plan_fd);
  _Static_assert(sizeof PLAN_MAGIC_TEXT - 1 == 4, "the plan header is magic + u32 count");
  if (st.st_size < 8 || memcmp(plan, PLAN_MAGIC_TEXT, 4) != 0) fail("read the launch plan", NULL, 0, NULL, "bad plan header");
  uint32_t count;
  memcpy(&count, plan + 4, 4);
  size_t off = 8;

  wait_go();
  for (uint32_t i = 0; i < count; i++) {
    struct record r;
    if (record_parse(plan, (size_t)st.st_size, &off, &r) < 0 || r.argc < 2)
      fail("read the launch plan", NULL, 0, NULL, "malformed record");
    g_pointer = r.argv[1];
    find_op(&r)->run(&r);
  }
  fail("run the launch plan", NULL, 0, NULL, "the plan ended without an exec step");
}
