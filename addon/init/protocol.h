/* tsrun-init's view of addon/protocol.def: the constants of every native part
 * (addon/common/protocol.h). */
#ifndef TSRUN_PROTOCOL_H
#define TSRUN_PROTOCOL_H

#include "../common/protocol.h"

#endif
