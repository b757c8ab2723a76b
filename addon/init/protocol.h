/* The names of the messages in addon/protocol.def, as C constants: SYNC_GO is
 * the GO message's name, SYNC_GO_MAX_ARGS its argument bound, and so on. Nothing here is
 * written twice; the plan ops' table is in init.c and their prototypes in
 * ops.h, from the same list. */
#ifndef TSRUN_PROTOCOL_H
#define TSRUN_PROTOCOL_H

#define PLAN_MAGIC(text) static const char PLAN_MAGIC_TEXT[] = text;
#define SYNC_MSG(name, from, min_args, max_args, args) \
  static const char SYNC_##name[] = #name;             \
  enum { SYNC_##name##_MIN_ARGS = min_args, SYNC_##name##_MAX_ARGS = max_args };
#define SYNC_WORD(name) static const char SYNC_WORD_##name[] = #name;
#define FIFO_REPORT(name, text) static const char FIFO_REPORT_##name[] = text;
#include "../protocol.def"

#endif
