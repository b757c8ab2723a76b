/* The wire format shared by the launch plan and the sync-socket messages: the
 * record of addon/common/record.h. A plan is PLAN_MAGIC, u32 count, then
 * records. Every plan record is [op, config-pointer, args...] so that any
 * failure can name the config field that asked for the step. Which ops and
 * messages exist, and their arguments, is declared in addon/protocol.def. The
 * TypeScript side of this format is src/linux/planCodec.ts. */
#ifndef TSRUN_PLAN_H
#define TSRUN_PLAN_H

#include "../common/record.h"

#endif
