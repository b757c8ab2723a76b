// The verbs answered natively, one file each; main picks one once the argv
// and fast.state allow it. A verb returns main's exit status, or hands the
// command to the CLI (to_cli) on anything it does not decide itself.
#ifndef TSRUN_FAST_VERBS_H
#define TSRUN_FAST_VERBS_H

#include "fast_state.h"

// dir is <root>/<id>, fs its parsed fast.state.
int verb_state(const char *dir, const struct fast_state *fs);
int verb_start(const char *dir, const struct fast_state *fs);
int verb_kill(const char *dir, const struct fast_state *fs, int sig);
int verb_delete(const char *dir, const struct fast_state *fs);

// 15, TERM, SIGTERM (any case); 0 when unknown here (the CLI then decides).
int parse_signal(const char *s);

#endif
