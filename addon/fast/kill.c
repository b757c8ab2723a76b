// kill: a signal to the init, through a pidfd.
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handover.h"
#include "status.h"
#include "verbs.h"

static const struct { const char *name; int sig; } SIGNAL_NAMES[] = {
  {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},
  {"IOT", SIGIOT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
  {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT},
  {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
  {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
  {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"POLL", SIGPOLL}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
};

int parse_signal(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end) return n >= 1 && n <= 64 ? (int)n : 0;
  if (!strncasecmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof SIGNAL_NAMES / sizeof *SIGNAL_NAMES; i++)
    if (!strcasecmp(s, SIGNAL_NAMES[i].name)) return SIGNAL_NAMES[i].sig;
  return 0;
}

int verb_kill(const char *dir, const struct fast_state *fs, int sig) {
  // The start time is checked after the pidfd is taken and the signal goes
  // through it: a pid reused in between is never signalled.
  int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)fs->pid, 0);
  if (pidfd < 0 || !strcmp(status_of(dir, fs), "stopped")) to_cli();
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0) to_cli();
  close(pidfd);
  return 0;
}
