#define _GNU_SOURCE
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ops.h"
#include "sync.h"

static int g_rootfd = -1;
static const char *g_rootfs = NULL;
int g_proc_fd = -1;

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

static int openat2_in_root(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static const uint64_t RESOLVE_SAFE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

int fd_is_procfs(int fd) {
  struct statfs sf;
  return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

/* procfs: a procfs handle of our own, taken before any config mount exists, so
 * that nothing the container mounts (a bind over /proc/self/fd, a /proc that is
 * not procfs) can redirect what the init later reaches through /proc. A fresh
 * detached instance where the kernel allows it (it shows the container's pid
 * namespace and is reachable from no path), else a detached clone of the /proc
 * the runtime sees. Never a plain fd of a host directory: `..` from a detached
 * mount's root stays there. */
void op_procfs(struct record *r) {
  (void)r;
  int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs >= 0) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
      g_proc_fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(fs);
  }
  if (g_proc_fd < 0) g_proc_fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (g_proc_fd < 0) fail("open a private procfs", "open_tree", errno, "/proc", NULL);
  if (!fd_is_procfs(g_proc_fd)) fail("open a private procfs", "fstatfs", EXDEV, "/proc", "not a procfs");
}

/* Opens the file an fd refers to anew with other flags, through our own procfs. */
int reopen_fd(int fd, int flags) {
  char p[32];
  snprintf(p, sizeof p, "self/fd/%d", fd);
  return openat(g_proc_fd, p, flags | O_CLOEXEC);
}

/* Stacks a copy of what `src` refers to (a file, a pty, a directory tree)
 * onto `target`, by fds only: no path string is resolved on the way. */
int bind_fd_onto(int src, int recursive, int target) {
  int tree = (int)syscall(SYS_open_tree, src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) return -1;
  int rc = (int)syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int e = errno;
  close(tree);
  errno = e;
  return rc;
}

/* Opens `path` (relative to the rootfs, leading '/' allowed) as O_PATH, creating
 * missing parents as directories and the last component as a directory or, when
 * as_file, an empty file. no_symlinks refuses any symlink on the way (for /proc, /sys). */
static int open_in_root(const char *shown, int create, int as_file, int no_symlinks, const char *step) {
  uint64_t resolve = RESOLVE_SAFE | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0);
  const char *path = shown;
  while (*path == '/') path++;
  if (*path == '\0') return openat2_in_root(g_rootfd, ".", O_PATH | O_CLOEXEC, resolve);
  int fd = openat2_in_root(g_rootfd, path, O_PATH | O_CLOEXEC, resolve);
  if (fd >= 0 || errno != ENOENT || !create) {
    if (fd < 0) fail(step, "openat2", errno, shown, no_symlinks && errno == ELOOP ?
        "refusing a destination that is or passes through a symlink" : NULL);
    return fd;
  }
  /* Walk the components, creating what is missing, each step inside the root. */
  char *copy = strdup(path);
  char *p = copy;
  int parent = openat2_in_root(g_rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, resolve);
  if (parent < 0) fail(step, "openat2", errno, g_rootfs, NULL);
  while (*p) {
    char *slash = strchr(p, '/');
    if (slash) *slash = '\0';
    int last = slash == NULL || slash[1] == '\0';
    if (*p != '\0') {
      int next = openat2_in_root(parent, p, O_PATH | O_CLOEXEC, resolve);
      if (next < 0 && errno == ENOENT) {
        if (last && as_file) {
          int f = openat(parent, p, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (f < 0 && errno != EEXIST) fail(step, "openat", errno, shown, "creating the mount target file");
          if (f >= 0) close(f);
        } else if (mkdirat(parent, p, 0755) < 0 && errno != EEXIST) {
          fail(step, "mkdirat", errno, shown, "creating the mount target directory");
        }
        next = openat2_in_root(parent, p, O_PATH | O_CLOEXEC, resolve);
        /* Still missing: the name is a symlink whose target (inside the rootfs) does not exist. */
        if (next < 0 && errno == ENOENT)
          fail(step, "openat2", errno, shown, "a symlink on the way points to a path that does not exist inside the rootfs");
      }
      if (next < 0) fail(step, "openat2", errno, shown, NULL);
      close(parent);
      parent = next;
    }
    if (!slash) break;
    p = slash + 1;
  }
  free(copy);
  return parent;
}

/* Splits `path` into an O_PATH fd of its parent directory (created as needed) and its last name. */
static int open_parent_in_root(const char *path, const char **base, const char *step) {
  static char parent_path[4096];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    *base = path;
    return open_in_root("", 0, 0, 0, step);
  }
  size_t n = (size_t)(slash - path);
  if (n >= sizeof parent_path) fail(step, NULL, 0, path, "path too long");
  memcpy(parent_path, path, n);
  parent_path[n] = '\0';
  *base = slash + 1;
  return open_in_root(parent_path, 1, 0, 0, step);
}

/* A path string for mount(2) naming what fd refers to. Used before pivot_root
 * only, where /proc is still the runtime's own: after it, steps go fd to fd. */
static void fd_path(int fd, char *buf, size_t size) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

/* A bind remount must keep the flags the kernel locked on the source mount
 * (nodev, nosuid, ... inside a user namespace), so retry with them on EPERM. */
static int remount_keep_locked(const char *target, unsigned long flags) {
  if (mount(NULL, target, NULL, flags, NULL) == 0) return 0;
  if (errno != EPERM) return -1;
  struct statvfs st;
  if (statvfs(target, &st) < 0) return -1;
  unsigned long locked = 0;
  if (st.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  return mount(NULL, target, NULL, flags | locked, NULL);
}

void op_propagation(struct record *r) {
  unsigned long flags = strtoul(r->argv[2], NULL, 10);
  if (mount(NULL, "/", NULL, flags, NULL) < 0) fail("set the propagation of the container's mounts", "mount", errno, "/", NULL);
}

/* Makes the mount that holds `path` private in the container's mount namespace, so that
 * with a shared root (rootfsPropagation shared/rshared) nothing mounted below the rootfs
 * propagates back to the host, and pivot_root accepts the rootfs. The mount is found by
 * walking up while statx reports the same mount id. */
void op_private_parent(struct record *r) {
  char *dir = realpath(r->argv[2], NULL);
  if (!dir) fail("find the mount that holds the rootfs", "realpath", errno, r->argv[2], NULL);
  struct statx sx;
  if (statx(AT_FDCWD, dir, AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0) fail("find the mount that holds the rootfs", "statx", errno, dir, NULL);
  uint64_t mnt_id = sx.stx_mnt_id;
  for (;;) {
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
      if (strcmp(dir, "/") != 0 && statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &sx) == 0 && sx.stx_mnt_id == mnt_id) strcpy(dir, "/");
      break;
    }
    *slash = 0;
    int same = statx(AT_FDCWD, dir, 0, STATX_MNT_ID, &sx) == 0 && sx.stx_mnt_id == mnt_id;
    *slash = '/';
    if (!same) break;
    *slash = 0;
  }
  if (mount(NULL, dir, NULL, MS_PRIVATE, NULL) < 0) fail("make the mount that holds the rootfs private", "mount", errno, dir, NULL);
  free(dir);
}

void op_bind_self(struct record *r) {
  const char *path = r->argv[2];
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) fail("make the rootfs a mount point", "mount", errno, path, NULL);
}

void op_rootfs(struct record *r) {
  g_rootfs = r->argv[2];
  g_rootfd = open(g_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_rootfd < 0) fail("open the rootfs", "open", errno, g_rootfs, NULL);
}

/* Copies a directory tree (files, dirs, symlinks, nodes; modes and owners)
 * from one directory fd to another: for tmpcopyup, from the directory a tmpfs
 * is about to cover into the new tmpfs. */
static void copy_tree(int src, int dst, const char *shown) {
  int dupfd = dup(src);
  DIR *dir = dupfd >= 0 ? fdopendir(dupfd) : NULL;
  if (!dir) fail("copy up into tmpfs", "fdopendir", errno, shown, NULL);
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    const char *n = e->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0) continue;
    struct stat st;
    if (fstatat(src, n, &st, AT_SYMLINK_NOFOLLOW) < 0) fail("copy up into tmpfs", "fstatat", errno, n, NULL);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst, n, st.st_mode & 07777) < 0) fail("copy up into tmpfs", "mkdirat", errno, n, NULL);
      int s2 = openat(src, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int d2 = openat(dst, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 < 0 || d2 < 0) fail("copy up into tmpfs", "openat", errno, n, NULL);
      copy_tree(s2, d2, n);
      close(s2);
      close(d2);
    } else if (S_ISREG(st.st_mode)) {
      int in = openat(src, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int out = openat(dst, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
      if (in < 0 || out < 0) fail("copy up into tmpfs", "openat", errno, n, NULL);
      char buf[65536];
      ssize_t k;
      while ((k = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)k) != k) fail("copy up into tmpfs", "write", errno, n, NULL);
      if (k < 0) fail("copy up into tmpfs", "read", errno, n, NULL);
      close(in);
      close(out);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t k = readlinkat(src, n, target, sizeof target - 1);
      if (k < 0) fail("copy up into tmpfs", "readlinkat", errno, n, NULL);
      target[k] = '\0';
      if (symlinkat(target, dst, n) < 0) fail("copy up into tmpfs", "symlinkat", errno, n, NULL);
    } else if (mknodat(dst, n, st.st_mode, st.st_rdev) < 0) {
      fail("copy up into tmpfs", "mknodat", errno, n, NULL);
    }
    if (fchownat(dst, n, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail("copy up into tmpfs", "fchownat", errno, n, NULL);
    if (!S_ISLNK(st.st_mode) && fchmodat(dst, n, st.st_mode & 07777, 0) < 0) fail("copy up into tmpfs", "fchmodat", errno, n, NULL);
  }
  closedir(dir);
}

/* A mount target on procfs lets a mount redirect what the kernel or the init
 * writes there later (a bind over /proc/sys/kernel turned sysctls into writes
 * to a host file): only the destinations the plan allows may be there, however
 * the path got there (a symlink in the image leading into /proc included). */
static void refuse_on_procfs(int fd, int proc_ok, const char *dest, const char *step) {
  if (!proc_ok && fd_is_procfs(fd))
    fail(step, NULL, 0, dest, "the mount destination is on /proc; only /proc itself and a few files (cpuinfo, meminfo, stat, ...) may be mounted over");
}

/* An idmapped bind mount (kernel >= 5.12): a detached copy of the source tree
 * gets MOUNT_ATTR_IDMAP with the user namespace made by `idmap-userns`, then is
 * moved onto the target. */
static void idmapped_bind(const char *src, const char *dest, int idx, int recursive, int as_file, int proc_ok, const char *step) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail(step, "open_tree", errno, src, NULL);
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)g_idmap_fds[idx];
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    fail(step, "mount_setattr(MOUNT_ATTR_IDMAP)", errno, src, errno == EINVAL ? "the source filesystem does not support idmapped mounts" : NULL);
  int target = open_in_root(dest, 1, as_file, 0, step);
  refuse_on_procfs(target, proc_ok, dest, step);
  if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail(step, "move_mount", errno, dest, NULL);
  close(target);
  close(tree);
}

void op_mount(struct record *r) {
  const char *src = r->argv[2], *dest = r->argv[3], *fstype = r->argv[4];
  unsigned long flags = strtoul(r->argv[5], NULL, 10);
  const char *data = r->argv[6];
  unsigned long propagation = strtoul(r->argv[7], NULL, 10);
  unsigned long remount = strtoul(r->argv[8], NULL, 10);
  int as_file = r->argv[9][0] == '1';
  int no_symlinks = r->argv[10][0] == '1';
  char step[4200];
  snprintf(step, sizeof step, "mount %s on", fstype[0] ? fstype : "bind");

  int copyup = r->argv[11][0] == '1';
  int idmap = atoi(r->argv[12]);
  int proc_ok = r->argv[13][0] == '1';
  if (idmap >= 0) {
    idmapped_bind(src, dest, idmap, (flags & MS_REC) != 0, as_file, proc_ok, step);
    if (remount || propagation) {
      int fd2 = open_in_root(dest, 0, 0, no_symlinks, step);
      char t2[64];
      fd_path(fd2, t2, sizeof t2);
      if (remount && remount_keep_locked(t2, remount) < 0) fail("remount (read-only/flags of a bind mount)", "mount", errno, dest, NULL);
      if (propagation && mount(NULL, t2, NULL, propagation, NULL) < 0) fail("set mount propagation of", "mount", errno, dest, NULL);
      close(fd2);
    }
    return;
  }
  int fd = open_in_root(dest, 1, as_file, no_symlinks, step);
  refuse_on_procfs(fd, proc_ok, dest, step);
  char target[64];
  fd_path(fd, target, sizeof target);
  /* An fd of the directory before the mount still reads what the mount covers. */
  int below = copyup ? open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (copyup && below < 0) fail(step, "open", errno, dest, "tmpcopyup needs a directory");
  if (mount(src[0] ? src : NULL, target, fstype[0] ? fstype : NULL, flags, data[0] ? data : NULL) < 0)
    fail(step, "mount", errno, dest, NULL);
  close(fd);
  if (copyup) {
    int mfd = open_in_root(dest, 0, 0, no_symlinks, step);
    fd_path(mfd, target, sizeof target);
    int above = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (above < 0) fail(step, "open", errno, dest, NULL);
    struct stat st;
    if (fstat(below, &st) == 0) {
      if (fchown(above, st.st_uid, st.st_gid) < 0 || fchmod(above, st.st_mode & 07777) < 0) fail(step, "fchown", errno, dest, NULL);
    }
    copy_tree(below, above, dest);
    close(above);
    close(below);
    close(mfd);
  }
  /* Re-open: the fd above names the directory under the new mount, not the mount's root. */
  if (remount || propagation) {
    fd = open_in_root(dest, 0, 0, no_symlinks, step);
    fd_path(fd, target, sizeof target);
    if (remount && remount_keep_locked(target, remount) < 0)
      fail("remount (read-only/flags of a bind mount)", "mount", errno, dest, NULL);
    if (propagation && mount(NULL, target, NULL, propagation, NULL) < 0)
      fail("set mount propagation of", "mount", errno, dest, NULL);
    close(fd);
  }
}

/* mode is the file type | permissions. The owner and mode are
 * set on an fd of the node just made, never through its name: on a /dev shared
 * with another container the name can be swapped for a symlink in between
 * (CVE-2025-31133 class), and chmod through it would change a host file. */
void op_mknod(struct record *r) {
  const char *path = r->argv[2];
  mode_t mode = (mode_t)strtoul(r->argv[3], NULL, 10);
  dev_t dev = makedev(strtoul(r->argv[4], NULL, 10), strtoul(r->argv[5], NULL, 10));
  uid_t uid = (uid_t)strtoul(r->argv[6], NULL, 10);
  gid_t gid = (gid_t)strtoul(r->argv[7], NULL, 10);
  const char *base;
  int dir = open_parent_in_root(path, &base, "create device");
  /* O_PATH fds cannot be used with mknodat; reopen the directory for real. */
  int real = reopen_fd(dir, O_DIRECTORY | O_RDONLY);
  if (real < 0) fail("create device", "open", errno, path, NULL);
  if (mknodat(real, base, mode, dev) < 0) {
    if (errno != EEXIST || unlinkat(real, base, 0) < 0 || mknodat(real, base, mode, dev) < 0)
      fail("create device", "mknod", errno, path, NULL);
  }
  int node = openat(real, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (node < 0) fail("create device", "openat", errno, path, NULL);
  struct stat st;
  if (fstat(node, &st) < 0) fail("create device", "fstat", errno, path, NULL);
  if ((st.st_mode & S_IFMT) != (mode & S_IFMT) || ((S_ISCHR(mode) || S_ISBLK(mode)) && st.st_rdev != dev))
    fail("create device", NULL, 0, path, "the device node was replaced while it was being created");
  if (fchownat(node, "", uid, gid, AT_EMPTY_PATH) < 0) fail("chown device", "fchownat", errno, path, NULL);
  char self[32];
  snprintf(self, sizeof self, "self/fd/%d", node);
  if (fchmodat(g_proc_fd, self, mode & 07777, 0) < 0) fail("chmod device", "fchmodat", errno, path, NULL);
  close(node);
  close(real);
  close(dir);
}

/* Where mknod is not allowed (user namespaces). */
void op_bind_dev(struct record *r) {
  const char *path = r->argv[2], *host = r->argv[3];
  int fd = open_in_root(path, 1, 1, 0, "bind device");
  char target[64];
  fd_path(fd, target, sizeof target);
  if (mount(host, target, NULL, MS_BIND, NULL) < 0) fail("bind device", "mount", errno, path, NULL);
  close(fd);
}

void op_symlink(struct record *r) {
  const char *target = r->argv[2], *link = r->argv[3];
  const char *base;
  int dir = open_parent_in_root(link, &base, "create symlink");
  int real = reopen_fd(dir, O_DIRECTORY | O_RDONLY);
  if (real < 0) fail("create symlink", "open", errno, link, NULL);
  if (symlinkat(target, real, base) < 0 && errno != EEXIST) fail("create symlink", "symlinkat", errno, link, NULL);
  close(real);
  close(dir);
}

void op_pivot_root(struct record *r) {
  (void)r;
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0) fail("pivot_root", "open", errno, "/", NULL);
  int newroot = open(g_rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0) fail("pivot_root", "open", errno, g_rootfs, NULL);
  if (fchdir(newroot) < 0) fail("pivot_root", "fchdir", errno, g_rootfs, NULL);
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", "pivot_root", errno, g_rootfs, NULL);
  /* The old root is now stacked under "."; detach it without propagating the unmount to the host. */
  if (fchdir(oldroot) < 0) fail("pivot_root", "fchdir", errno, "/", NULL);
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("pivot_root", "mount", errno, "old root", "making it rslave");
  if (umount2(".", MNT_DETACH) < 0) fail("pivot_root", "umount2", errno, "old root", NULL);
  if (chdir("/") < 0) fail("pivot_root", "chdir", errno, "/", NULL);
  close(oldroot);
  close(newroot);
  close(g_rootfd);
  g_rootfd = -1;
}

void op_move_root(struct record *r) {
  (void)r;
  if (chdir(g_rootfs) < 0) fail("move the rootfs to /", "chdir", errno, g_rootfs, NULL);
  if (mount(g_rootfs, "/", NULL, MS_MOVE, NULL) < 0) fail("move the rootfs to /", "mount", errno, g_rootfs, "MS_MOVE");
  if (chroot(".") < 0) fail("move the rootfs to /", "chroot", errno, g_rootfs, NULL);
  if (chdir("/") < 0) fail("move the rootfs to /", "chdir", errno, "/", NULL);
}

/* After pivot_root: "/" is the container's root; still never follow a symlink
 * out. From here on the container's own /proc is never used to name a file
 * (a mount over /proc/self/fd would redirect it): masks and read-only paths
 * are mounted from fd to fd. */
static int open_after_pivot(const char *path, const char *step) {
  /* From "/", not AT_FDCWD: with RESOLVE_IN_ROOT the dirfd is the root. */
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(step, "open", errno, "/", NULL);
  int fd = openat2_in_root(root, path, O_PATH | O_CLOEXEC | O_NOFOLLOW, RESOLVE_SAFE);
  int e = errno;
  close(root);
  errno = e;
  if (fd < 0 && errno != ENOENT) fail(step, "openat2", errno, path, NULL);
  return fd;
}

/* The container's /dev/null, checked to be the null device itself: a symlink
 * or another node put there (by the image, or racing from a shared /dev) would
 * turn a mask into a bind of whatever it names. */
static int open_dev_null(const char *step) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) fail(step, "open", errno, "/", NULL);
  int fd = openat2_in_root(root, "/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC, RESOLVE_SAFE | RESOLVE_NO_SYMLINKS);
  close(root);
  if (fd < 0) fail(step, "openat2", errno, "/dev/null", "masking a file binds the container's /dev/null over it");
  struct stat st;
  if (fstat(fd, &st) < 0) fail(step, "fstat", errno, "/dev/null", NULL);
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    fail(step, NULL, 0, "/dev/null", "is not the null device (char 1:3); refusing to bind it over a masked path");
  return fd;
}

void op_mask(struct record *r) {
  const char *path = r->argv[2];
  int fd = open_after_pivot(path, "mask path");
  if (fd < 0) return; /* nothing there to mask */
  struct stat st;
  if (fstat(fd, &st) < 0) fail("mask path", "fstat", errno, path, NULL);
  if (S_ISDIR(st.st_mode)) {
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) fail("mask path", "fsopen", errno, path, "read-only tmpfs");
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "0k", 0) < 0 ||
        syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
      fail("mask path", "fsconfig", errno, path, "read-only tmpfs");
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    if (mnt < 0) fail("mask path", "fsmount", errno, path, "read-only tmpfs");
    if (syscall(SYS_move_mount, mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      fail("mask path", "move_mount", errno, path, "read-only tmpfs");
    close(mnt);
    close(fs);
  } else {
    int null = open_dev_null("mask path");
    if (bind_fd_onto(null, 0, fd) < 0) fail("mask path", "move_mount", errno, path, "bind /dev/null");
    close(null);
  }
  close(fd);
}

void op_readonly(struct record *r) {
  const char *path = r->argv[2];
  int fd = open_after_pivot(path, "make path read-only");
  if (fd < 0) return;
  int tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) fail("make path read-only", "open_tree", errno, path, "bind");
  /* Setting flags never clears one the kernel locked (nodev, nosuid in a user namespace). */
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
      fail("make path read-only", "mount_setattr", errno, path, "remount read-only");
  }
  if (syscall(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail("make path read-only", "move_mount", errno, path, NULL);
  close(tree);
  close(fd);
}

void op_remount_root_ro(struct record *r) {
  (void)r;
  if (remount_keep_locked("/", MS_BIND | MS_REMOUNT | MS_RDONLY) < 0) fail("make the rootfs read-only", "mount", errno, "/", NULL);
}
