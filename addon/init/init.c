/* tsrun-init: the native helper that the runtime's spawned child execs at once
 * (process model 2 in docs/ARCHITECTURE.md). It is a normal single-threaded
 * program: it reads a launch plan that TypeScript built, performs it step by
 * step, and reports over the sync socket. It holds no policy: the order and the
 * content of every step come from the plan.
 *
 * argv: tsrun-init SYNC_FD PLAN_FD PRESERVE_FDS CONSOLE_FD
 *
 * Stage 1 (host side) runs the ops up to `clone`, then reports the init's pid
 * and exits. The init (pid 1 of a new pid namespace, a sibling of stage 1
 * thanks to CLONE_PARENT so that it is a child of the runtime) runs the rest
 * and finally execve()s the container process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "plan.h"
#include "rootfs.h"
#include "sync.h"

extern char **environ;

/* An O_PATH fd of exec.fifo itself, never of the state directory: a directory
 * fd held through the created state is a way back to the host (`fd/N/../..`). */
static int g_fifo_path_fd = -1;
static int g_console_fd = -1;
static char g_exec_path[4096];

static unsigned long long num(const char *s) { return strtoull(s, NULL, 10); }

static void write_file(const char *path, const char *content, size_t len, const char *step) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(step, "open", errno, path, NULL);
  if (write(fd, content, len) != (ssize_t)len) fail(step, "write", errno, path, NULL);
  close(fd);
}

/* GO may come with a sealed memfd holding the state documents that
 * createContainer and startContainer hooks read on stdin, as one record
 * [creating-state, created-state]: GO STATES + fd. A memfd, not the message
 * itself: with annotations near Kubernetes' 256 KiB the documents outgrow a
 * socket message. */
static char *g_state_creating = NULL, *g_state_created = NULL;

static void wait_go(void) {
  static char buf[65536];
  struct record m;
  int fd = sync_recv(&m, buf, sizeof buf);
  if (m.argc < 1 || strcmp(m.argv[0], "GO") != 0) fail("wait for the runtime", NULL, 0, NULL, "unexpected message");
  if (m.argc >= 2 && strcmp(m.argv[1], "STATES") == 0) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) fail("read the hooks' state documents", "fstat", fd < 0 ? EBADF : errno, NULL, NULL);
    char *data = malloc((size_t)st.st_size + 1);
    if (!data || pread(fd, data, (size_t)st.st_size, 0) != st.st_size) fail("read the hooks' state documents", "pread", errno, NULL, NULL);
    struct record states;
    size_t off = 0;
    if (record_parse(data, (size_t)st.st_size, &off, &states) < 0 || states.argc != 2)
      fail("read the hooks' state documents", NULL, 0, NULL, "malformed record");
    g_state_creating = states.argv[0];
    g_state_created = states.argv[1];
  }
  if (fd >= 0) close(fd);
}

/* ---- stage 1: namespaces ---- */

static void op_setns(struct record *r) {
  const char *path = r->argv[2];
  int nstype = (int)num(r->argv[3]);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("join namespace", "open", errno, path, NULL);
  if (setns(fd, nstype) < 0)
    fail("join namespace", "setns", errno, path, errno == EINVAL ? "not a namespace file of this type" : NULL);
  close(fd);
}

static void op_unshare(struct record *r) {
  if (unshare((int)num(r->argv[2])) < 0) fail("create namespaces", "unshare", errno, NULL, NULL);
}

static void op_write(struct record *r) {
  write_file(r->argv[2], r->argv[3], r->lens[3], "write");
}

/* exec-fifo: PATH — kept as an O_PATH fd so the init can reach it after pivot_root. */
static void op_exec_fifo(struct record *r) {
  g_fifo_path_fd = open(r->argv[2], O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (g_fifo_path_fd < 0) fail("open exec.fifo", "open", errno, r->argv[2], NULL);
  struct stat st;
  if (fstat(g_fifo_path_fd, &st) < 0) fail("open exec.fifo", "fstat", errno, r->argv[2], NULL);
  if (!S_ISFIFO(st.st_mode)) fail("open exec.fifo", NULL, 0, r->argv[2], "not a fifo");
}

/* idmap-userns: INDEX UID_MAP GID_MAP — a user namespace that exists only to
 * describe an idmapped mount's mapping: a child is cloned into a new user
 * namespace, its maps are written (stage 1 is root on the host), its
 * namespace fd is kept for the mount step, and the child is killed. */
int g_idmap_fds[64];

static void op_idmap_userns(struct record *r) {
  unsigned idx = (unsigned)num(r->argv[2]);
  if (idx >= 64) fail("create the idmap user namespace", NULL, 0, NULL, "too many idmapped mounts");
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
static void op_clone(struct record *r) {
  unsigned long flags = (unsigned long)num(r->argv[2]);
  long pid = syscall(SYS_clone, flags | CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid < 0) fail("create the container's init process", "clone", errno, NULL, NULL);
  if (pid > 0) {
    char s[32];
    snprintf(s, sizeof s, "%ld", pid);
    const char *msg[] = {"PID", s};
    sync_send(msg, 2);
    _exit(0);
  }
}

/* ---- init: process settings ---- */

static void op_become_root(struct record *r) {
  (void)r;
  if (setresgid(0, 0, 0) < 0) fail("become root in the user namespace", "setresgid", errno, NULL, NULL);
  if (setresuid(0, 0, 0) < 0) fail("become root in the user namespace", "setresuid", errno, NULL, NULL);
}

static void op_hostname(struct record *r) {
  if (sethostname(r->argv[2], r->lens[2]) < 0) fail("set hostname", "sethostname", errno, NULL, NULL);
}

static void op_domainname(struct record *r) {
  if (setdomainname(r->argv[2], r->lens[2]) < 0) fail("set domainname", "setdomainname", errno, NULL, NULL);
}

/* sysctl: KEY VALUE — written through our own procfs, beneath its sys/ and
 * with no symlink or mount crossing on the way, and only into a procfs file:
 * whatever the container mounted in its /proc cannot turn it into a write
 * elsewhere. */
static void op_sysctl(struct record *r) {
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

static void op_rlimit(struct record *r) {
  struct rlimit rl = {.rlim_cur = num(r->argv[3]), .rlim_max = num(r->argv[4])};
  if (setrlimit((int)num(r->argv[2]), &rl) < 0)
    fail("set rlimit", "setrlimit", errno, NULL,
         errno == EPERM ? "raising a hard limit needs CAP_SYS_RESOURCE, which the runtime does not have" : NULL);
}

static void op_personality(struct record *r) {
  if (personality((unsigned long)num(r->argv[2])) < 0) fail("set personality", "personality", errno, NULL, NULL);
}

static void op_ioprio(struct record *r) {
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)num(r->argv[2])) < 0)
    fail("set I/O priority", "ioprio_set", errno, NULL, NULL);
}

/* glibc 2.36 does not declare it; the kernel ABI (include/uapi/linux/sched/types.h). */
struct tsrun_sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

/* sched: policy nice priority flags runtime deadline period */
static void op_sched(struct record *r) {
  struct tsrun_sched_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = (uint32_t)num(r->argv[2]);
  attr.sched_nice = (int32_t)strtol(r->argv[3], NULL, 10);
  attr.sched_priority = (uint32_t)num(r->argv[4]);
  attr.sched_flags = num(r->argv[5]);
  attr.sched_runtime = num(r->argv[6]);
  attr.sched_deadline = num(r->argv[7]);
  attr.sched_period = num(r->argv[8]);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail("set scheduler", "sched_setattr", errno, NULL, NULL);
}

static void op_umask(struct record *r) { umask((mode_t)num(r->argv[2])); }

static void op_setsid(struct record *r) {
  (void)r;
  if (setsid() < 0 && errno != EPERM) fail("start a new session", "setsid", errno, NULL, NULL);
}

/* Opens `path` with openat2 from the current root ("/", not the cwd: with
 * RESOLVE_IN_ROOT an absolute path is taken relative to the dirfd). */
static int openat2_root(const char *path, uint64_t flags, uint64_t resolve) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
  int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  int e = errno;
  close(root);
  errno = e;
  return fd;
}

/* Opens the container's /dev/console as a mount target without following a
 * symlink (CVE-2025-52565 class): a symlink there is replaced by an empty
 * file, a missing one created; anything but a file or a char device refused. */
static int open_console_target(void) {
  int dev = openat2_root("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  if (dev < 0) fail("bind the pty onto /dev/console", "openat2", errno, "/dev", NULL);
  int fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
    close(fd);
    fd = -1;
    if (unlinkat(dev, "console", 0) < 0) fail("bind the pty onto /dev/console", "unlinkat", errno, "/dev/console", "replacing a symlink");
  }
  if (fd < 0) {
    int f = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (f < 0) fail("bind the pty onto /dev/console", "openat", errno, "/dev/console", NULL);
    close(f);
    fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) fail("bind the pty onto /dev/console", "openat", errno, "/dev/console", NULL);
  }
  if (fstat(fd, &st) < 0) fail("bind the pty onto /dev/console", "fstat", errno, "/dev/console", NULL);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    fail("bind the pty onto /dev/console", NULL, 0, "/dev/console", "is neither a file nor a character device");
  close(dev);
  return fd;
}

/* console: rows cols [bind_console] — a pty from the container's devpts, its
 * slave the controlling terminal and stdio, its master sent to the console
 * socket. */
static void op_console(struct record *r) {
  unsigned short rows = (unsigned short)num(r->argv[2]), cols = (unsigned short)num(r->argv[3]);
  int bind_console = r->argc < 5 || r->argv[4][0] == '1';
  /* /dev/ptmx is the image's to define (usually a symlink to pts/ptmx): resolved
   * inside the root, and it must be a ptmx (char 5:2). */
  int master = openat2_root("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (master < 0) fail("create the console pty", "openat2", errno, "/dev/ptmx", NULL);
  struct stat st;
  if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
    fail("create the console pty", NULL, 0, "/dev/ptmx", "is not a pty multiplexer (char 5:2)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("create the console pty", "ioctl(TIOCSPTLCK)", errno, "/dev/ptmx", NULL);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("create the console pty", "ioctl(TIOCGPTPEER)", errno, "/dev/ptmx", NULL);
  unsigned int ptn = 0;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) fail("create the console pty", "ioctl(TIOCGPTN)", errno, "/dev/ptmx", NULL);
  char slave_path[64];
  snprintf(slave_path, sizeof slave_path, "/dev/pts/%u", ptn);
  /* /dev/console shows the same pty, like runc: the slave's own fd is bound,
   * so no name in the container (a /dev/pts/N symlink) can choose the source. */
  if (bind_console) {
    int target = open_console_target();
    if (bind_fd_onto(slave, 0, target) < 0) fail("bind the pty onto /dev/console", "move_mount", errno, slave_path, NULL);
    close(target);
  }
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) fail("set the console size", "ioctl(TIOCSWINSZ)", errno, slave_path, NULL);
  }
  if (setsid() < 0 && errno != EPERM) fail("start a new session", "setsid", errno, NULL, NULL);
  if (ioctl(slave, TIOCSCTTY, 0) < 0) fail("make the pty the controlling terminal", "ioctl(TIOCSCTTY)", errno, slave_path, NULL);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail("attach stdio to the pty", "dup2", errno, slave_path, NULL);
  close(slave);

  static const char name[] = "/dev/ptmx";
  if (send_with_fd(g_console_fd, name, sizeof name - 1, master) < 0)
    fail("send the pty master to the console socket", "sendmsg", errno, NULL, NULL);
  close(master);
  close(g_console_fd);
  g_console_fd = -1;
}

/* keyring: NAME — a fresh session keyring, so the container cannot see the host's keys. */
static void op_keyring(struct record *r) {
  /* KEYCTL_JOIN_SESSION_KEYRING = 1. Kernels without keys (ENOSYS) or a user
   * namespace over its key quota (EDQUOT) run without one, as runc does. */
  if (syscall(SYS_keyctl, 1, r->argv[2]) < 0 && errno != ENOSYS && errno != EDQUOT)
    fail("create a session keyring", "keyctl(KEYCTL_JOIN_SESSION_KEYRING)", errno, NULL, NULL);
}

/* apparmor: PROFILE — the profile the kernel switches to at our execve
 * (change_onexec). Through our own procfs where the init has one, else the
 * container's /proc, checked to be procfs. */
static void op_apparmor(struct record *r) {
  static const char *const files[] = {"thread-self/attr/apparmor/exec", "thread-self/attr/exec"};
  char text[4200];
  int len = snprintf(text, sizeof text, "exec %s", r->argv[2]);
  if (len < 0 || (size_t)len >= sizeof text) fail("apply the AppArmor profile", NULL, 0, NULL, "profile name too long");
  int proc = g_proc_fd >= 0 ? g_proc_fd : open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (proc < 0 || !fd_is_procfs(proc)) fail("apply the AppArmor profile", "open", proc < 0 ? errno : EXDEV, "/proc", "not a procfs");
  int fd = -1;
  for (size_t i = 0; i < 2 && fd < 0; i++) fd = openat(proc, files[i], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || !fd_is_procfs(fd)) fail("apply the AppArmor profile", "open", fd < 0 ? errno : EXDEV, "/proc/thread-self/attr/apparmor/exec", NULL);
  if (write(fd, text, (size_t)len) != len) fail("apply the AppArmor profile", "write", errno, "/proc/thread-self/attr/apparmor/exec", NULL);
  close(fd);
  if (proc != g_proc_fd) close(proc);
}

static void op_nnp(struct record *r) {
  (void)r;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs", "prctl", errno, NULL, NULL);
}

/* user: uid gid [additional gids...] — keeps the permitted capabilities across
 * the uid change so that the `caps` step can set exactly the configured ones. */
static void op_user(struct record *r) {
  uid_t uid = (uid_t)num(r->argv[2]);
  gid_t gid = (gid_t)num(r->argv[3]);
  size_t ngroups = r->argc - 4;
  gid_t *groups = calloc(ngroups + 1, sizeof(gid_t));
  for (size_t i = 0; i < ngroups; i++) groups[i] = (gid_t)num(r->argv[4 + i]);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("set the user", "prctl(PR_SET_KEEPCAPS)", errno, NULL, NULL);
  if (setgroups(ngroups, groups) < 0) fail("set additional groups", "setgroups", errno, NULL, NULL);
  if (setresgid(gid, gid, gid) < 0) fail("set the group id", "setresgid", errno, NULL, errno == EINVAL ? "gid is not mapped in the user namespace" : NULL);
  if (setresuid(uid, uid, uid) < 0) fail("set the user id", "setresuid", errno, NULL, errno == EINVAL ? "uid is not mapped in the user namespace" : NULL);
  free(groups);
}

/* bounding: MASK — before the `user` step: dropping needs CAP_SETPCAP, which a
 * non-root uid no longer has in its effective set. */
static void op_bounding(struct record *r) {
  unsigned long long bounding = num(r->argv[2]);
  for (int cap = 0; cap < 64; cap++) {
    if (bounding & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      fail("drop a capability from the bounding set", "prctl(PR_CAPBSET_DROP)", errno, NULL, NULL);
  }
}

/* caps: effective permitted inheritable ambient (64-bit masks) */
static void op_caps(struct record *r) {
  unsigned long long effective = num(r->argv[2]), permitted = num(r->argv[3]), inheritable = num(r->argv[4]),
                     ambient = num(r->argv[5]);
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t)effective;
  data[1].effective = (uint32_t)(effective >> 32);
  data[0].permitted = (uint32_t)permitted;
  data[1].permitted = (uint32_t)(permitted >> 32);
  data[0].inheritable = (uint32_t)inheritable;
  data[1].inheritable = (uint32_t)(inheritable >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) fail("set capabilities", "capset", errno, NULL, NULL);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    fail("clear ambient capabilities", "prctl(PR_CAP_AMBIENT)", errno, NULL, NULL);
  for (int cap = 0; cap < 64; cap++) {
    if (!(ambient & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      fail("raise an ambient capability", "prctl(PR_CAP_AMBIENT_RAISE)", errno, NULL,
           "an ambient capability must also be permitted and inheritable");
  }
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail("set capabilities", "prctl(PR_SET_KEEPCAPS)", errno, NULL, NULL);
}

/* The cwd is resolved inside the container's root without magic links: the
 * init still holds runtime fds (exec.fifo, its procfs, the sync socket), and
 * cwd=/proc/self/fd/N must never land the process on one of them
 * (CVE-2024-21626). */
static void op_chdir(struct record *r) {
  const char *path = r->argv[2];
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("change to the working directory", "open", errno, "/", NULL);
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  if (fd < 0)
    fail("change to the working directory", "openat2", errno, path,
         errno == ELOOP ? "a magic link (/proc/*/fd/...) is not a working directory" : NULL);
  if (fchdir(fd) < 0) fail("change to the working directory", "fchdir", errno, path, NULL);
  close(fd);
  close(root);
}

/* resolve-exec: arg0 PATH — found now, so that a missing binary fails `create`. */
static void op_resolve_exec(struct record *r) {
  const char *arg0 = r->argv[2], *path = r->argv[3];
  struct stat st;
  if (strchr(arg0, '/')) {
    if (stat(arg0, &st) < 0) fail("find the executable", "stat", errno, arg0, NULL);
    if (!S_ISREG(st.st_mode) || access(arg0, X_OK) < 0) fail("find the executable", "access", EACCES, arg0, "not an executable file");
    snprintf(g_exec_path, sizeof g_exec_path, "%s", arg0);
    return;
  }
  const char *p = path;
  int saw_eacces = 0, other_err = 0;
  while (1) {
    const char *colon = strchr(p, ':');
    size_t n = colon ? (size_t)(colon - p) : strlen(p);
    char candidate[4096];
    if (n == 0) snprintf(candidate, sizeof candidate, "%s", arg0);
    else snprintf(candidate, sizeof candidate, "%.*s/%s", (int)n, p, arg0);
    int rc = stat(candidate, &st);
    if (rc == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate, X_OK) == 0) {
        snprintf(g_exec_path, sizeof g_exec_path, "%s", candidate);
        return;
      }
      saw_eacces = 1;
    } else if (rc < 0 && errno != ENOENT && errno != ENOTDIR && !other_err) {
      other_err = errno; /* e.g. EACCES on a directory, ELOOP: say so rather than "not found" */
    }
    if (!colon) break;
    p = colon + 1;
  }
  if (other_err && !saw_eacces) fail("find the executable", "stat", other_err, arg0, "while searching $PATH");
  fail("find the executable", "execve", saw_eacces ? EACCES : ENOENT, arg0,
       saw_eacces ? "found in $PATH but not executable" : "executable file not found in $PATH");
}

/* close-fds: FIRST — every fd from FIRST up is closed at execve (stdio and --preserve-fds stay). */
static void op_close_fds(struct record *r) {
  unsigned int first = (unsigned int)num(r->argv[2]);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = (int)first; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

static void op_ready(struct record *r) {
  (void)r;
  const char *msg[] = {"READY"};
  sync_send(msg, 1);
}

/* fifo-wait: blocks until `tsrun start` opens exec.fifo for reading. From
 * then on `start` reads this fifo until EOF, which comes with the execve (the
 * fd is close-on-exec): "0" means started, an ERR record after it means not. */
static void op_fifo_wait(struct record *r) {
  (void)r;
  int fd;
  do fd = reopen_fd(g_fifo_path_fd, O_WRONLY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) _exit(1); /* deleted before start: nothing to report to */
  close(g_fifo_path_fd);
  g_fifo_path_fd = -1;
  g_fifo_fd = fd;
}

/* started: the startContainer hooks passed; only seccomp and execve remain. */
static void op_started(struct record *r) {
  (void)r;
  if (write(g_fifo_fd, "0", 1) != 1) _exit(1);
}

/* hook: KIND PATH TIMEOUT NARGS HAS_ENV args... env... — a createContainer or
 * startContainer hook, run from inside the container's namespaces with the
 * state document on stdin. */
static void op_hook(struct record *r) {
  const char *kind = r->argv[2], *path = r->argv[3];
  long timeout_ms = strtol(r->argv[4], NULL, 10) * 1000;
  size_t nargs = (size_t)num(r->argv[5]);
  int has_env = r->argv[6][0] == '1';
  size_t nenv = r->argc - 7 - nargs;
  char **argv = calloc(nargs + 2, sizeof(char *));
  char **envp = calloc(nenv + 1, sizeof(char *));
  for (size_t i = 0; i < nargs; i++) argv[i] = r->argv[7 + i];
  if (nargs == 0) argv[0] = (char *)path;
  for (size_t i = 0; i < nenv; i++) envp[i] = r->argv[7 + nargs + i];
  const char *state = strcmp(kind, "startContainer") == 0 ? g_state_created : g_state_creating;
  if (!state) state = "{}";
  char step[64];
  snprintf(step, sizeof step, "run %s hook", kind);

  int in[2], errp[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) fail(step, "pipe2", errno, path, NULL);
  /* A hook that does not read its stdin must not kill the init with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) fail(step, "fork", errno, path, NULL);
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    execve(path, argv, has_env ? envp : environ);
    int e = errno;
    if (write(errp[1], &e, sizeof e) < 0) {}
    _exit(127);
  }
  close(in[0]);
  close(errp[1]);
  size_t len = strlen(state), off = 0;
  while (off < len) {
    ssize_t n = write(in[1], state + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* the hook did not read it all: its business */
    off += (size_t)n;
  }
  close(in[1]);
  int exec_err = 0;
  if (read(errp[0], &exec_err, sizeof exec_err) == sizeof exec_err) {
    waitpid(pid, NULL, 0);
    fail(step, "execve", exec_err, path, NULL);
  }
  close(errp[0]);
  int status = 0;
  long waited = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, timeout_ms > 0 ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) fail(step, "waitpid", errno, path, NULL);
    if (timeout_ms > 0 && w == 0) {
      if (waited >= timeout_ms) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char d[64];
        snprintf(d, sizeof d, "timed out after %lds", timeout_ms / 1000);
        fail(step, NULL, 0, path, d);
      }
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
      waited += 1;
    }
  }
  signal(SIGPIPE, SIG_DFL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char d[64];
    if (WIFSIGNALED(status)) snprintf(d, sizeof d, "killed by signal %d", WTERMSIG(status));
    else snprintf(d, sizeof d, "exit status %d", WEXITSTATUS(status));
    fail(step, NULL, 0, path, d);
  }
  free(argv);
  free(envp);
}

/* seccomp: BPF-program flags — loaded last, so the runtime's own steps are not filtered. */
static void op_seccomp(struct record *r) {
  struct sock_fprog prog = {.len = (unsigned short)(r->lens[2] / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)r->argv[2]};
  unsigned int flags = (unsigned int)num(r->argv[3]);
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) fail("load the seccomp filter", "seccomp", errno, NULL, NULL);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    /* The notify fd goes to the runtime, which hands it to the listener. */
    int fd = (int)rc;
    static const char name[] = "SECCOMPFD";
    uint32_t argc = 1, len = sizeof name - 1;
    char buf[4 + 4 + sizeof name];
    memcpy(buf, &argc, 4);
    memcpy(buf + 4, &len, 4);
    memcpy(buf + 8, name, sizeof name);
    if (send_with_fd(g_sync_fd, buf, sizeof buf, fd) < 0) fail("send the seccomp notify fd", "sendmsg", errno, NULL, NULL);
    close(fd);
  }
}

/* exec: NARGS args... env... */
static void op_exec(struct record *r) {
  size_t nargs = (size_t)num(r->argv[2]);
  char **argv = calloc(nargs + 1, sizeof(char *));
  size_t nenv = r->argc - 3 - nargs;
  char **envp = calloc(nenv + 1, sizeof(char *));
  for (size_t i = 0; i < nargs; i++) argv[i] = r->argv[3 + i];
  for (size_t i = 0; i < nenv; i++) envp[i] = r->argv[3 + nargs + i];
  execve(g_exec_path[0] ? g_exec_path : argv[0], argv, envp);
  /* After `start` nobody listens on the sync socket; say it on stderr too. */
  int err = errno;
  dprintf(2, "tsrun: exec %s: %s\n", argv[0], strerror(err));
  fail("exec the container process", "execve", err, argv[0], NULL);
}

struct op {
  const char *name;
  void (*run)(struct record *);
};

static void run_int(int (*f)(struct record *), struct record *r) { f(r); }
#define ROOTFS_OP(fn) static void fn##_v(struct record *r) { run_int(fn, r); }
ROOTFS_OP(op_procfs)
ROOTFS_OP(op_rootfs)
ROOTFS_OP(op_mount)
ROOTFS_OP(op_mknod)
ROOTFS_OP(op_bind_dev)
ROOTFS_OP(op_symlink)
ROOTFS_OP(op_pivot_root)
ROOTFS_OP(op_move_root)
ROOTFS_OP(op_mask)
ROOTFS_OP(op_readonly)
ROOTFS_OP(op_remount_root_ro)
ROOTFS_OP(op_propagation)
ROOTFS_OP(op_bind_self)

static void op_wait_go(struct record *r) { (void)r; wait_go(); }

static const struct op OPS[] = {
    {"exec-fifo", op_exec_fifo},  {"setns", op_setns},
    {"idmap-userns", op_idmap_userns},           {"unshare", op_unshare},
    {"write", op_write},           {"clone", op_clone},
    {"wait-go", op_wait_go},       {"become-root", op_become_root},
    {"hostname", op_hostname},     {"domainname", op_domainname},
    {"propagation", op_propagation_v}, {"bind-self", op_bind_self_v},
    {"rootfs", op_rootfs_v},       {"mount", op_mount_v},
    {"mknod", op_mknod_v},         {"bind-dev", op_bind_dev_v},
    {"symlink", op_symlink_v},     {"pivot-root", op_pivot_root_v},
    {"move-root", op_move_root_v}, {"mask", op_mask_v},
    {"readonly", op_readonly_v},   {"remount-root-ro", op_remount_root_ro_v},
    {"sysctl", op_sysctl},         {"rlimit", op_rlimit},
    {"procfs", op_procfs_v},       {"personality", op_personality},
    {"ioprio", op_ioprio},         {"sched", op_sched},
    {"umask", op_umask},           {"setsid", op_setsid},
    {"console", op_console},       {"nnp", op_nnp},
    {"apparmor", op_apparmor},
    {"user", op_user},             {"caps", op_caps},
    {"bounding", op_bounding},      {"keyring", op_keyring},
    {"chdir", op_chdir},           {"resolve-exec", op_resolve_exec},
    {"close-fds", op_close_fds},   {"ready", op_ready},
    {"fifo-wait", op_fifo_wait},   {"seccomp", op_seccomp},
    {"started", op_started},       {"hook", op_hook},
    {"exec", op_exec},
};

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
  char *plan = malloc((size_t)st.st_size + 1);
  if (!plan || pread(plan_fd, plan, (size_t)st.st_size, 0) != st.st_size) fail("read the launch plan", "pread", errno, NULL, NULL);
  close(plan_fd);
  if (st.st_size < 8 || memcmp(plan, "TSP1", 4) != 0) fail("read the launch plan", NULL, 0, NULL, "bad plan header");
  uint32_t count;
  memcpy(&count, plan + 4, 4);
  size_t off = 8;

  wait_go();
  for (uint32_t i = 0; i < count; i++) {
    struct record r;
    if (record_parse(plan, (size_t)st.st_size, &off, &r) < 0 || r.argc < 2)
      fail("read the launch plan", NULL, 0, NULL, "malformed record");
    g_pointer = r.argv[1];
    size_t k;
    for (k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
      if (strcmp(OPS[k].name, r.argv[0]) == 0) break;
    }
    if (k == sizeof OPS / sizeof OPS[0]) fail("read the launch plan", NULL, 0, r.argv[0], "unknown plan step");
    OPS[k].run(&r);
  }
  fail("run the launch plan", NULL, 0, NULL, "the plan ended without an exec step");
}
