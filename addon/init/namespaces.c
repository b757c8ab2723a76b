/* Namespaces: the stage-1 steps that run in the runtime's namespaces (join,
 * unshare, idmap user namespaces, the clone of the init), and the init's
 * first steps inside the new ones (root in its user namespace, hostname,
 * domainname, sysctls). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops.h"
#include "protocol.h"
#include "rootfs.h"
#include "sync.h"

static void write_file(const char *path, const char *content, size_t len, const char *step) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(step, "open", errno, path, NULL);
  if (write(fd, content, len) != (ssize_t)len) fail(step, "write", errno, path, NULL);
  close(fd);
}

/* ---- stage 1, in the runtime's namespaces ---- */

void op_setns(struct record *r) {
  const char *path = r->argv[2];
  int nstype = (int)arg_num(r->argv[3]);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("join namespace", "open", errno, path, NULL);
  if (setns(fd, nstype) < 0)
    fail("join namespace", "setns", errno, path, errno == EINVAL ? "not a namespace file of this type" : NULL);
  close(fd);
}

void op_unshare(struct record *r) {
  if (unshare((int)arg_num(r->argv[2])) < 0) fail("create namespaces", "unshare", errno, NULL, NULL);
}

void op_write(struct record *r) {
  write_file(r->argv[2], r->argv[3], r->lens[3], "write");
}

/* A user namespace that exists only to describe an idmapped mount's mapping:
 * a child is cloned into a new user namespace, its maps are written (stage 1
 * is root on the host), its namespace fd is kept for the mount step, and the
 * child, reading EOF on its pipe, exits. */
int g_idmap_fds[IDMAP_MAX];

void op_idmap_userns(struct record *r) {
  unsigned idx = (unsigned)arg_num(r->argv[2]);
  if (idx >= IDMAP_MAX) fail("create the idmap user namespace", NULL, 0, NULL, "too many idmapped mounts");
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) fail("create the idmap user namespace", "pipe2", errno, NULL, NULL);
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid < 0) fail("create the idmap user namespace", "clone", errno, NULL, NULL);
  if (pid == 0) {
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(p[0]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/uid_map", pid);
  write_file(path, r->argv[3], r->lens[3], "write the idmapped mount's uid mappings");
  snprintf(path, sizeof path, "/proc/%ld/gid_map", pid);
  write_file(path, r->argv[4], r->lens[4], "write the idmapped mount's gid mappings");
  snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
  g_idmap_fds[idx] = open(path, O_RDONLY | O_CLOEXEC);
  if (g_idmap_fds[idx] < 0) fail("create the idmap user namespace", "open", errno, path, NULL);
  close(p[1]); /* the child reads EOF and exits */
  waitpid((pid_t)pid, NULL, 0);
}

/* Returns in the init only; stage 1 reports the init's pid and exits. */
void op_clone(struct record *r) {
  unsigned long flags = (unsigned long)arg_num(r->argv[2]);
  long pid = syscall(SYS_clone, flags | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid < 0) fail("create the container's init process", "clone", errno, NULL, NULL);
  if (pid > 0) {
    char s[32];
    snprintf(s, sizeof s, "%ld", pid);
    _Static_assert(SYNC_PID_MIN_ARGS == 1 && SYNC_PID_MAX_ARGS == 1, "PID carries the pid");
    const char *msg[] = {SYNC_PID, s};
    sync_send(msg, 2);
    _exit(0);
  }
}

/* ---- the init, inside its namespaces ---- */

void op_become_root(struct record *r) {
  (void)r;
  if (setresgid(0, 0, 0) < 0) fail("become root in the user namespace", "setresgid", errno, NULL, NULL);
  if (setresuid(0, 0, 0) < 0) fail("become root in the user namespace", "setresuid", errno, NULL, NULL);
}

void op_hostname(struct record *r) {
  if (sethostname(r->argv[2], r->lens[2]) < 0) fail("set hostname", "sethostname", errno, NULL, NULL);
}

void op_domainname(struct record *r) {
  if (setdomainname(r->argv[2], r->lens[2]) < 0) fail("set domainname", "setdomainname", errno, NULL, NULL);
}

/* Written through our own procfs, beneath its sys/ and
 * with no symlink or mount crossing on the way, and only into a procfs file:
 * whatever the container mounted in its /proc cannot turn it into a write
 * elsewhere. */
void op_sysctl(struct record *r) {
  char path[512];
  int n = snprintf(path, sizeof path, "sys/%s", r->argv[2]);
  if (n < 0 || (size_t)n >= sizeof path) fail("set sysctl", NULL, 0, r->argv[2], "name too long");
  for (char *p = path + 4; *p; p++)
    if (*p == '.') *p = '/';
  struct open_how how = {.flags = O_WRONLY | O_CLOEXEC, .mode = 0,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
  int fd = (int)syscall(SYS_openat2, g_proc_fd, path, &how, sizeof how);
  char shown[520];
  snprintf(shown, sizeof shown, "/proc/%s", path);
  if (fd < 0) fail("set sysctl", "openat2", errno, shown, errno == ENOENT ? "no such sysctl" : NULL);
  if (!fd_is_procfs(fd)) fail("set sysctl", "fstatfs", EXDEV, shown, "not a procfs file");
  if (write(fd, r->argv[3], r->lens[3]) != (ssize_t)r->lens[3]) fail("set sysctl", "write", errno, shown, NULL);
  close(fd);
}
