// Whole-file reads and full writes, the only I/O the verbs need.
#ifndef TSRUN_FAST_IO_H
#define TSRUN_FAST_IO_H

#include <stddef.h>

// The file's bytes, NUL-terminated (malloc'd), its length in *len when len is
// not NULL; NULL when it cannot be opened.
char *read_file(const char *path, size_t *len);
// 0 once all n bytes are written, -1 on an error.
int write_all(int fd, const char *p, size_t n);

#endif
