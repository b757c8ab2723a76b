/* Building the container's filesystem: every path below the rootfs is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink inside the image can never lead a
 * mount, device node or mkdir out of the rootfs onto the host. */
#ifndef TSRUN_ROOTFS_H
#define TSRUN_ROOTFS_H

/* The filesystem steps are declared in ops.h; these helpers serve the others too. */

/* Our own procfs (see op_procfs), -1 before the `procfs` step. */
extern int g_proc_fd;
int fd_is_procfs(int fd);
/* Opens what `fd` refers to anew with `flags`, through g_proc_fd. */
int reopen_fd(int fd, int flags);
/* Stacks a copy of what `src` refers to onto `target`, fd to fd; -1 with errno. */
int bind_fd_onto(int src, int recursive, int target);

#endif
