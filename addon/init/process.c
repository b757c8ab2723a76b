/* Becoming the configured process: terminal, rlimits, scheduling, session
 * keyring, umask, working directory, AppArmor, no_new_privs, the bounding set,
 * user, capabilities, seccomp, the executable and finally execve. The plan
 * chooses the order (src/linux/launchPlan.ts processSteps); the same steps
 * serve the init and an exec'd process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/ioprio.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "../common/fdmsg.h"
#include "ops.h"
#include "protocol.h"
#include "rootfs.h"
#include "sync.h"

int g_console_fd = -1;
/* What resolve-exec found, for exec. */
static char g_exec_path[4096];

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

/* A pty from the container's devpts: its slave the controlling terminal and
 * stdio (and, with bind_console, the init's /dev/console), its master sent to
 * the console socket. */
void op_console(struct record *r) {
  unsigned short rows = (unsigned short)arg_num(r->argv[2]), cols = (unsigned short)arg_num(r->argv[3]);
  int bind_console = r->argv[4][0] == '1';
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
  if (fdmsg_send(g_console_fd, name, sizeof name - 1, master) < 0)
    fail("send the pty master to the console socket", "sendmsg", errno, NULL, NULL);
  close(master);
  close(g_console_fd);
  g_console_fd = -1;
}

void op_setsid(struct record *r) {
  (void)r;
  if (setsid() < 0 && errno != EPERM) fail("start a new session", "setsid", errno, NULL, NULL);
}

void op_rlimit(struct record *r) {
  struct rlimit rl = {.rlim_cur = arg_num(r->argv[3]), .rlim_max = arg_num(r->argv[4])};
  if (setrlimit((int)arg_num(r->argv[2]), &rl) < 0)
    fail("set rlimit", "setrlimit", errno, NULL,
         errno == EPERM ? "raising a hard limit needs CAP_SYS_RESOURCE, which the runtime does not have" : NULL);
}

void op_personality(struct record *r) {
  if (personality((unsigned long)arg_num(r->argv[2])) < 0) fail("set personality", "personality", errno, NULL, NULL);
}

void op_ioprio(struct record *r) {
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)arg_num(r->argv[2])) < 0)
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

void op_sched(struct record *r) {
  struct tsrun_sched_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.sched_policy = (uint32_t)arg_num(r->argv[2]);
  attr.sched_nice = (int32_t)strtol(r->argv[3], NULL, 10);
  attr.sched_priority = (uint32_t)arg_num(r->argv[4]);
  attr.sched_flags = arg_num(r->argv[5]);
  attr.sched_runtime = arg_num(r->argv[6]);
  attr.sched_deadline = arg_num(r->argv[7]);
  attr.sched_period = arg_num(r->argv[8]);
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0) fail("set scheduler", "sched_setattr", errno, NULL, NULL);
}

void op_umask(struct record *r) { umask((mode_t)arg_num(r->argv[2])); }

/* A fresh session keyring, named by the plan, so the container cannot see the host's keys. */
void op_keyring(struct record *r) {
  /* KEYCTL_JOIN_SESSION_KEYRING = 1. Kernels without keys (ENOSYS) or a user
   * namespace over its key quota (EDQUOT) run without one, as runc does. */
  if (syscall(SYS_keyctl, 1, r->argv[2]) < 0 && errno != ENOSYS && errno != EDQUOT)
    fail("create a session keyring", "keyctl(KEYCTL_JOIN_SESSION_KEYRING)", errno, NULL, NULL);
}

/* The profile the kernel switches to at our execve
 * (change_onexec). Through our own procfs where the init has one, else the
 * container's /proc, checked to be procfs. */
void op_apparmor(struct record *r) {
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

void op_nnp(struct record *r) {
  (void)r;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("set no_new_privs", "prctl", errno, NULL, NULL);
}

/* Keeps the permitted capabilities across the uid change so that the `caps`
 * step can set exactly the configured ones. */
void op_user(struct record *r) {
  uid_t uid = (uid_t)arg_num(r->argv[2]);
  gid_t gid = (gid_t)arg_num(r->argv[3]);
  size_t ngroups = r->argc - 4;
  gid_t *groups = calloc(ngroups + 1, sizeof(gid_t));
  for (size_t i = 0; i < ngroups; i++) groups[i] = (gid_t)arg_num(r->argv[4 + i]);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("set the user", "prctl(PR_SET_KEEPCAPS)", errno, NULL, NULL);
  if (setgroups(ngroups, groups) < 0) fail("set additional groups", "setgroups", errno, NULL, NULL);
  if (setresgid(gid, gid, gid) < 0) fail("set the group id", "setresgid", errno, NULL, errno == EINVAL ? "gid is not mapped in the user namespace" : NULL);
  if (setresuid(uid, uid, uid) < 0) fail("set the user id", "setresuid", errno, NULL, errno == EINVAL ? "uid is not mapped in the user namespace" : NULL);
  free(groups);
}

/* The plan puts it before the `user` step: dropping needs CAP_SETPCAP, which a
 * non-root uid no longer has in its effective set. */
void op_bounding(struct record *r) {
  unsigned long long bounding = arg_num(r->argv[2]);
  for (int cap = 0; cap < 64; cap++) {
    if (bounding & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      fail("drop a capability from the bounding set", "prctl(PR_CAPBSET_DROP)", errno, NULL, NULL);
  }
}

/* Each set is a 64-bit mask; ambient ones must also be permitted and inheritable. */
void op_caps(struct record *r) {
  unsigned long long effective = arg_num(r->argv[2]), permitted = arg_num(r->argv[3]), inheritable = arg_num(r->argv[4]),
                     ambient = arg_num(r->argv[5]);
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

/* The init's cwd, made when missing as runc's create does (Docker relies on it for -w):
 * right after pivot_root, before a read-only root is remounted, as root. Each parent is
 * resolved from the container's root again, so a symlink on the way stays inside it; 0755
 * under the umask. An exec's cwd must exist. */
void op_make_cwd(struct record *r) {
  const char *path = r->argv[2];
  if (path[0] != '/') return; /* validation refuses it; op_chdir names it */
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail("create the working directory", "open", errno, "/", NULL);
  char prefix[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof prefix) fail("create the working directory", "mkdirat", ENAMETOOLONG, path, NULL);
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .mode = 0, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  for (size_t i = 1; i <= len; i++) {
    if (i < len && path[i] != '/') continue;
    memcpy(prefix, path, i);
    prefix[i] = '\0';
    if (prefix[i - 1] == '/') continue;
    int fd = (int)syscall(SYS_openat2, root, prefix, &how, sizeof how);
    if (fd >= 0) {
      close(fd);
      continue;
    }
    if (errno != ENOENT) break; /* op_chdir names it */
    char *slash = strrchr(prefix, '/');
    const char *name = slash + 1;
    int parent = root;
    if (slash != prefix) {
      *slash = '\0';
      parent = (int)syscall(SYS_openat2, root, prefix, &how, sizeof how);
      if (parent < 0) break;
    }
    if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
      fail("create the working directory", "mkdirat", errno, path, NULL);
    if (parent != root) close(parent);
  }
  close(root);
}

/* The cwd is resolved inside the container's root without magic links: the
 * init still holds runtime fds (exec.fifo, its procfs, the sync socket), and
 * cwd=/proc/self/fd/N must never land the process on one of them
 * (CVE-2024-21626). */
void op_chdir(struct record *r) {
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

/* Found now (arg0 through path_env, as execvp would), so that a missing binary fails `create`. */
void op_resolve_exec(struct record *r) {
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

/* Every fd from `first` up is closed at execve (stdio and --preserve-fds stay). */
void op_close_fds(struct record *r) {
  unsigned int first = (unsigned int)arg_num(r->argv[2]);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = (int)first; fd < 65536; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
}

/* Loaded where the plan puts it (launchPlan.ts processSteps): without
 * no_new_privs before the user switch, while the init still has
 * CAP_SYS_ADMIN, so the remaining steps run filtered; with no_new_privs right
 * before execve, or before READY when a notify fd must reach the runtime. */
void op_seccomp(struct record *r) {
  struct sock_fprog prog = {.len = (unsigned short)(r->lens[2] / sizeof(struct sock_filter)),
                            .filter = (struct sock_filter *)r->argv[2]};
  unsigned int flags = (unsigned int)arg_num(r->argv[3]);
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) fail("load the seccomp filter", "seccomp", errno, NULL, NULL);
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    /* The notify fd goes to the runtime, which hands it to the listener. */
    int fd = (int)rc;
    _Static_assert(SYNC_SECCOMPFD_MAX_ARGS == 0, "SECCOMPFD carries only the fd");
    const char *msg[] = {SYNC_SECCOMPFD};
    if (sync_send_fd(msg, 1, fd) < 0) fail("send the seccomp notify fd", "sendmsg", errno, NULL, NULL);
    close(fd);
  }
}

/* The record's tail is the process's nargs arguments, then its environment. */
void op_exec(struct record *r) {
  size_t nargs = (size_t)arg_num(r->argv[2]);
  if (nargs > r->argc - 3) fail("read the launch plan", NULL, 0, r->argv[0], "more process arguments counted than given");
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
