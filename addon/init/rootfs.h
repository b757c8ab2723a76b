/* Building the container's filesystem: every path below the rootfs is resolved
 * with openat2(RESOLVE_IN_ROOT), so a symlink inside the image can never lead a
 * mount, device node or mkdir out of the rootfs onto the host. */
#ifndef TSRUN_ROOTFS_H
#define TSRUN_ROOTFS_H

#include "plan.h"

int op_rootfs(struct record *r);
int op_mount(struct record *r);
int op_mknod(struct record *r);
int op_bind_dev(struct record *r);
int op_symlink(struct record *r);
int op_pivot_root(struct record *r);
int op_move_root(struct record *r);
int op_mask(struct record *r);
int op_readonly(struct record *r);
int op_remount_root_ro(struct record *r);
int op_propagation(struct record *r);
int op_bind_self(struct record *r);
/* The path of the rootfs as given by the `rootfs` op (used by the console bind). */
const char *rootfs_path(void);

#endif
