/* The names of the messages in addon/protocol.def, as C constants, for every
 * native part: SYNC_GO is the GO message's name, SYNC_GO_MAX_ARGS its argument
 * bound, SHIM_START the shim's START request, and so on. Nothing here is
 * written twice; tsrun-init's op table is in addon/init/init.c and its
 * prototypes in ops.h, from the same list. */
#ifndef TSRUN_COMMON_PROTOCOL_H
#define TSRUN_COMMON_PROTOCOL_H

#define PLAN_MAGIC(text) static const char PLAN_MAGIC_TEXT[] = text;
#define SYNC_MSG(name, from, min_args, max_args, args) \
  static const char SYNC_##name[] = #name;             \
  enum { SYNC_##name##_MIN_ARGS = min_args, SYNC_##name##_MAX_ARGS = max_args };
#define SYNC_WORD(name) static const char SYNC_WORD_##name[] = #name;
#define FIFO_REPORT(name, text) static const char FIFO_REPORT_##name[] = text;
#define SHIM_MSG(name, from, min_args, max_args, args) \
  static const char SHIM_##name[] = #name;             \
  enum { SHIM_##name##_MIN_ARGS = min_args, SHIM_##name##_MAX_ARGS = max_args };
#include "../protocol.def"

#endif
