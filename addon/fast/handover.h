// Handing a command over to the TypeScript CLI, which holds the one
// implementation of every decision and message the front binary does not make.
#ifndef TSRUN_FAST_HANDOVER_H
#define TSRUN_FAST_HANDOVER_H

#include <stddef.h>

// Remembers the arguments to_cli passes on; main calls it first.
void handover_init(char **argv);
// Runs the TypeScript CLI with the same arguments; never returns.
void to_cli(void) __attribute__((noreturn));
// The checkout this binary belongs to: <repo>/build/Release/tsrun-cli → <repo>.
int repo_dir(char *out, size_t size);

#endif
