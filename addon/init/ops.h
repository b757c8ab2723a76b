/* Every plan op of addon/protocol.def is a function op_<ident>(record), run
 * with the record's length already checked against the declared arity. They
 * live by concern: namespaces.c (stage 1 and the init's namespaces), rootfs.c
 * (the filesystem), process.c (becoming the configured process), hooks.c, and
 * init.c (the handshake with the runtime). */
#ifndef TSRUN_OPS_H
#define TSRUN_OPS_H

#include <stdlib.h>

#include "plan.h"

/* A numeric argument: the plan writes numbers in decimal. */
static inline unsigned long long arg_num(const char *s) { return strtoull(s, NULL, 10); }

#define PLAN_OP(ident, name, arity, shape, args) void op_##ident(struct record *r);
#include "../protocol.def"

/* State that one step leaves for a later one. */

/* idmap-userns → mount: the user namespace fd of each idmapped mount, by index. */
#define IDMAP_MAX 64
extern int g_idmap_fds[IDMAP_MAX];
/* main → console: the console socket the pty master goes to (-1: none). */
extern int g_console_fd;
/* GO STATES → hook: the state documents hooks read on stdin; NULL until then. */
void hooks_set_states(char *creating, char *created);

#endif
