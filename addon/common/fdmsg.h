/* One socket message that may carry one fd (SCM_RIGHTS), for every native part that
 * talks over a unix socket: tsrun-init's sync and console sockets, the addon (and the
 * shim to come). EINTR is retried; sends never raise SIGPIPE; received fds are
 * close-on-exec. */
#ifndef TSRUN_FDMSG_H
#define TSRUN_FDMSG_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sends `len` bytes, with `fd` attached unless it is -1. Returns the bytes sent, or -1 (errno). */
ssize_t fdmsg_send(int sock, const void *data, size_t len, int fd);

/* Receives one message into `buf`. Returns its length (0 at EOF) or -1 (errno); `*fd` is
 * the attached fd or -1; `*truncated` is set when the message did not fit. */
ssize_t fdmsg_recv(int sock, void *buf, size_t len, int *fd, int *truncated);

#ifdef __cplusplus
}
#endif

#endif
