#include "record.h"

#include <stdlib.h>
#include <string.h>

int record_parse(char *buf, size_t size, size_t *off, struct record *out) {
  uint32_t argc;
  out->argc = 0;
  out->argv = NULL;
  out->lens = NULL;
  if (*off + 4 > size) return -1;
  memcpy(&argc, buf + *off, 4);
  *off += 4;
  if (argc > (1u << 20)) return -1;
  out->argv = calloc(argc + 1, sizeof(char *));
  out->lens = calloc(argc + 1, sizeof(uint32_t));
  if (!out->argv || !out->lens) return -1;
  for (uint32_t i = 0; i < argc; i++) {
    uint32_t len;
    if (*off + 4 > size) return -1;
    memcpy(&len, buf + *off, 4);
    *off += 4;
    if (*off + (size_t)len + 1 > size || buf[*off + len] != '\0') return -1;
    out->argv[i] = buf + *off;
    out->lens[i] = len;
    *off += (size_t)len + 1;
  }
  out->argc = argc;
  return 0;
}

void record_free(struct record *r) {
  free(r->argv);
  free(r->lens);
  r->argv = NULL;
  r->lens = NULL;
  r->argc = 0;
}

size_t record_size(const char *const *argv, const uint32_t *lens, uint32_t argc) {
  size_t size = 4;
  for (uint32_t i = 0; i < argc; i++) size += 4 + (lens ? lens[i] : strlen(argv[i])) + 1;
  return size;
}

size_t record_encode(char *buf, const char *const *argv, const uint32_t *lens, uint32_t argc) {
  memcpy(buf, &argc, 4);
  size_t off = 4;
  for (uint32_t i = 0; i < argc; i++) {
    uint32_t len = lens ? lens[i] : (uint32_t)strlen(argv[i]);
    memcpy(buf + off, &len, 4);
    off += 4;
    memcpy(buf + off, argv[i], len);
    off += len;
    buf[off++] = '\0';
  }
  return off;
}
