#define _GNU_SOURCE
#include "sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/fdmsg.h"
#include "protocol.h"

int g_sync_fd = -1;
int g_fifo_fd = -1;
const char *g_pointer = "";

/* The record of argv in a malloc'ed buffer of *size bytes; out of memory ends
 * the helper (there is nothing it could still report). */
static char *record_encode_alloc(const char *const *argv, uint32_t argc, size_t *size) {
  *size = record_size(argv, NULL, argc);
  char *buf = malloc(*size);
  if (!buf) _exit(1);
  record_encode(buf, argv, NULL, argc);
  return buf;
}

void sync_send(const char *const *argv, uint32_t argc) {
  size_t size;
  char *buf = record_encode_alloc(argv, argc, &size);
  ssize_t n;
  if (g_fifo_fd >= 0) {
    size_t off2 = 0;
    n = 0;
    while (off2 < size) {
      n = write(g_fifo_fd, buf + off2, size - off2);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off2 += (size_t)n;
    }
  } else {
    do n = send(g_sync_fd, buf, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
  }
  free(buf);
  /* If the runtime is gone there is nobody to report to: stop here. */
  if (n < 0) _exit(1);
}

int sync_recv(struct record *out, char *buf, size_t bufsize) {
  int fd, truncated;
  ssize_t n = fdmsg_recv(g_sync_fd, buf, bufsize, &fd, &truncated);
  if (n <= 0) _exit(1);
  if (truncated) fail("read a message from the runtime", NULL, 0, NULL, "message too long");
  size_t off = 0;
  if (record_parse(buf, (size_t)n, &off, out) < 0) fail("read a message from the runtime", NULL, 0, NULL, "malformed message");
  return fd;
}

void fail(const char *step, const char *syscall, int err, const char *path, const char *detail) {
  const char *errname = "";
  const char *msg = detail ? detail : "";
  if (syscall) {
    errname = strerrorname_np(err);
    if (!errname) errname = "EUNKNOWN";
    if (!detail) msg = strerror(err);
  }
  _Static_assert(SYNC_ERR_MIN_ARGS == 6 && SYNC_ERR_MAX_ARGS == 6, "ERR's fields are the ones written here");
  const char *argv[] = {SYNC_ERR, step, syscall ? syscall : "", errname, path ? path : "", g_pointer, msg};
  sync_send(argv, 7);
  _exit(1);
}

int sync_send_fd(const char *const *argv, uint32_t argc, int fd) {
  size_t size;
  char *buf = record_encode_alloc(argv, argc, &size);
  int rc = fdmsg_send(g_sync_fd, buf, size, fd) < 0 ? -1 : 0;
  int e = errno;
  free(buf);
  errno = e;
  return rc;
}
