/* The wire format shared by the launch plan, the sync-socket messages and the
 * shim's control socket (tsrun-init, tsrun-shim).
 *
 * A record is: u32 argc, then argc times (u32 len, len bytes, one NUL byte).
 * The NUL lets a reader use string arguments in place; binary arguments (a BPF
 * program, a chunk of output) use the length. The TypeScript side of this
 * format is src/linux/planCodec.ts. */
#ifndef TSRUN_RECORD_H
#define TSRUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct record {
  uint32_t argc;
  char **argv;
  uint32_t *lens;
};

/* Parses one record at buf[*off]; returns 0 or -1 when the bytes are malformed.
 * argv and lens are calloc'ed (argc + 1 entries, argv NULL-terminated) and point
 * into buf; record_free releases them, also after a failed parse. */
int record_parse(char *buf, size_t size, size_t *off, struct record *out);
void record_free(struct record *r);

/* The encoded size of argv (lens NULL: each argument is a C string). */
size_t record_size(const char *const *argv, const uint32_t *lens, uint32_t argc);
/* Encodes argv into buf, which holds record_size() bytes; returns that size. */
size_t record_encode(char *buf, const char *const *argv, const uint32_t *lens, uint32_t argc);

#endif
