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
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sync.h"

static int g_rootfd = -1;
static const char *g_rootfs = NULL;

const char *rootfs_path(void) { return g_rootfs; }

static int openat2_in_root(int dirfd, const char *path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = 0, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static const uint64_t RESOLVE_SAFE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

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

int op_propagation(struct record *r) {
  unsigned long flags = strtoul(r->argv[2], NULL, 10);
  if (mount(NULL, "/", NULL, flags, NULL) < 0) fail("set the propagation of the container's mounts", "mount", errno, "/", NULL);
  return 0;
}

int op_bind_self(struct record *r) {
  const char *path = r->argv[2];
  if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) fail("make the rootfs a mount point", "mount", errno, path, NULL);
  return 0;
}

int op_rootfs(struct record *r) {
  g_rootfs = r->argv[2];
  g_rootfd = open(g_rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (g_rootfd < 0) fail("open the rootfs", "open", errno, g_rootfs, NULL);
  return 0;
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

extern int g_idmap_fds[64];

/* An idmapped bind mount (kernel >= 5.12): a detached copy of the source tree
 * gets MOUNT_ATTR_IDMAP with the user namespace made by `idmap-userns`, then is
 * moved onto the target. */
static void idmapped_bind(const char *src, const char *dest, int idx, int recursive, int as_file, const char *step) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail(step, "open_tree", errno, src, NULL);
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = (uint64_t)g_idmap_fds[idx];
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    fail(step, "mount_setattr(MOUNT_ATTR_IDMAP)", errno, src, errno == EINVAL ? "the source filesystem does not support idmapped mounts" : NULL);
  int target = open_in_root(dest, 1, as_file, 0, step);
  if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail(step, "move_mount", errno, dest, NULL);
  close(target);
  close(tree);
}

/* mount: source dest fstype flags data propagation remount_flags as_file no_symlinks tmpcopyup idmap_index */
int op_mount(struct record *r) {
  const char *src = r->argv[2], *dest = r->argv[3], *fstype = r->argv[4];
  unsigned long flags = strtoul(r->argv[5], NULL, 10);
  const char *data = r->argv[6];
  unsigned long propagation = strtoul(r->argv[7], NULL, 10);
  unsigned long remount = strtoul(r->argv[8], NULL, 10);
  int as_file = r->argv[9][0] == '1';
  int no_symlinks = r->argv[10][0] == '1';
  char step[4200];
  snprintf(step, sizeof step, "mount %s on", fstype[0] ? fstype : "bind");

  int copyup = r->argc > 11 && r->argv[11][0] == '1';
  int idmap = r->argc > 12 ? atoi(r->argv[12]) : -1;
  if (idmap >= 0) {
    idmapped_bind(src, dest, idmap, (flags & MS_REC) != 0, as_file, step);
    if (remount || propagation) {
      int fd2 = open_in_root(dest, 0, 0, no_symlinks, step);
      char t2[64];
      fd_path(fd2, t2, sizeof t2);
      if (remount && remount_keep_locked(t2, remount) < 0) fail("remount (read-only/flags of a bind mount)", "mount", errno, dest, NULL);
      if (propagation && mount(NULL, t2, NULL, propagation, NULL) < 0) fail("set mount propagation of", "mount", errno, dest, NULL);
      close(fd2);
    }
    return 0;
  }
  int fd = open_in_root(dest, 1, as_file, no_symlinks, step);
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
  return 0;
}

/* mknod: path mode(type|perm) major minor uid gid */
int op_mknod(struct record *r) {
  const char *path = r->argv[2];
  mode_t mode = (mode_t)strtoul(r->argv[3], NULL, 10);
  dev_t dev = makedev(strtoul(r->argv[4], NULL, 10), strtoul(r->argv[5], NULL, 10));
  uid_t uid = (uid_t)strtoul(r->argv[6], NULL, 10);
  gid_t gid = (gid_t)strtoul(r->argv[7], NULL, 10);
  const char *base;
  int dir = open_parent_in_root(path, &base, "create device");
  /* O_PATH fds cannot be used with mknodat; reopen the directory for real. */
  char dpath[64];
  fd_path(dir, dpath, sizeof dpath);
  int real = open(dpath, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (real < 0) fail("create device", "open", errno, path, NULL);
  if (mknodat(real, base, mode, dev) < 0) {
    if (errno != EEXIST || unlinkat(real, base, 0) < 0 || mknodat(real, base, mode, dev) < 0)
      fail("create device", "mknod", errno, path, NULL);
  }
  if (fchownat(real, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) fail("chown device", "fchownat", errno, path, NULL);
  if (fchmodat(real, base, mode & 07777, 0) < 0) fail("chmod device", "fchmodat", errno, path, NULL);
  close(real);
  close(dir);
  return 0;
}

/* bind-dev: path hostpath — where mknod is not allowed (user namespaces). */
int op_bind_dev(struct record *r) {
  const char *path = r->argv[2], *host = r->argv[3];
  int fd = open_in_root(path, 1, 1, 0, "bind device");
  char target[64];
  fd_path(fd, target, sizeof target);
  if (mount(host, target, NULL, MS_BIND, NULL) < 0) fail("bind device", "mount", errno, path, NULL);
  close(fd);
  return 0;
}

/* symlink: target linkpath */
int op_symlink(struct record *r) {
  const char *target = r->argv[2], *link = r->argv[3];
  const char *base;
  int dir = open_parent_in_root(link, &base, "create symlink");
  char dpath[64];
  fd_path(dir, dpath, sizeof dpath);
  int real = open(dpath, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (real < 0) fail("create symlink", "open", errno, link, NULL);
  if (symlinkat(target, real, base) < 0 && errno != EEXIST) fail("create symlink", "symlinkat", errno, link, NULL);
  close(real);
  close(dir);
  return 0;
}

int op_pivot_root(struct record *r) {
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
  return 0;
}

int op_move_root(struct record *r) {
  (void)r;
  if (chdir(g_rootfs) < 0) fail("move the rootfs to /", "chdir", errno, g_rootfs, NULL);
  if (mount(g_rootfs, "/", NULL, MS_MOVE, NULL) < 0) fail("move the rootfs to /", "mount", errno, g_rootfs, "MS_MOVE");
  if (chroot(".") < 0) fail("move the rootfs to /", "chroot", errno, g_rootfs, NULL);
  if (chdir("/") < 0) fail("move the rootfs to /", "chdir", errno, "/", NULL);
  return 0;
}

/* After pivot_root: "/" is the container's root; still never follow a symlink out. */
static int open_after_pivot(const char *path, const char *step) {
  int fd = openat2_in_root(AT_FDCWD, path, O_PATH | O_CLOEXEC | O_NOFOLLOW, RESOLVE_SAFE);
  if (fd < 0 && errno != ENOENT) fail(step, "openat2", errno, path, NULL);
  return fd;
}

int op_mask(struct record *r) {
  const char *path = r->argv[2];
  int fd = open_after_pivot(path, "mask path");
  if (fd < 0) return 0; /* nothing there to mask */
  struct stat st;
  if (fstat(fd, &st) < 0) fail("mask path", "fstat", errno, path, NULL);
  char target[64];
  fd_path(fd, target, sizeof target);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", target, "tmpfs", MS_RDONLY, "size=0k") < 0) fail("mask path", "mount", errno, path, "read-only tmpfs");
  } else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
    fail("mask path", "mount", errno, path, "bind /dev/null");
  }
  close(fd);
  return 0;
}

int op_readonly(struct record *r) {
  const char *path = r->argv[2];
  int fd = open_after_pivot(path, "make path read-only");
  if (fd < 0) return 0;
  char target[64];
  fd_path(fd, target, sizeof target);
  if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("make path read-only", "mount", errno, path, "bind");
  close(fd);
  fd = open_after_pivot(path, "make path read-only");
  fd_path(fd, target, sizeof target);
  if (remount_keep_locked(target, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0 &&
      remount_keep_locked(target, MS_BIND | MS_REMOUNT | MS_RDONLY) < 0)
    fail("make path read-only", "mount", errno, path, "remount read-only");
  close(fd);
  return 0;
}

int op_remount_root_ro(struct record *r) {
  (void)r;
  if (remount_keep_locked("/", MS_BIND | MS_REMOUNT | MS_RDONLY) < 0) fail("make the rootfs read-only", "mount", errno, "/", NULL);
  return 0;
}
