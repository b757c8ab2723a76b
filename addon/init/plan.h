/* The wire format shared by the launch plan and the sync-socket messages.
 *
 * A record is: u32 argc, then argc times (u32 len, len bytes, one NUL byte).
 * The NUL lets the helper use string arguments in place; binary arguments
 * (a BPF program) use the length. A plan is PLAN_MAGIC, u32 count, then
 * records. Every plan record is [op, config-pointer, args...] so that any
 * failure can name the config field that asked for the step. Which ops and
 * messages exist, and their arguments, is declared in addon/protocol.def. The
 * TypeScript side of this format is src/linux/planCodec.ts. */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H

#include <stddef.h>
#include <stdint.h>

struct record {
  uint32_t argc;
  char **argv;
  uint32_t *lens;
};

/* Parses one record at buf[*off]; returns 0 or -1 when the bytes are malformed. */
int record_parse(char *buf, size_t size, size_t *off, struct record *out);

#endif
