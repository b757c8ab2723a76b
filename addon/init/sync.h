/* Talking to the runtime over the inherited SOCK_SEQPACKET socket, and the
 * one way every failure leaves the helper: a structured ERR record. */
#ifndef TSRUN_SYNC_H
#define TSRUN_SYNC_H

#include "plan.h"

extern int g_sync_fd;
/* Once `tsrun start` holds exec.fifo open, reports go there instead (the sync
 * socket's reader, `tsrun create`, is gone by then). */
extern int g_fifo_fd;
/* The config pointer of the plan step being executed, cited by failures. */
extern const char *g_pointer;

void sync_send(const char *const *argv, uint32_t argc);
/* Sends the record argv on the sync socket with `fd` attached; returns
 * sendmsg's result. */
int sync_send_fd(const char *const *argv, uint32_t argc, int fd);
/* Receives one message and returns the fd that came with it, or -1; an EOF
 * (the runtime died) ends the helper quietly. */
int sync_recv(struct record *out, char *buf, size_t bufsize);
/* Sends ERR(step, syscall, errno-name, path, pointer, detail) and exits 1.
 * syscall may be NULL when the failure is not one syscall's (then err is ignored). */
__attribute__((noreturn)) void fail(const char *step, const char *syscall, int err, const char *path,
                                    const char *detail);

#endif
