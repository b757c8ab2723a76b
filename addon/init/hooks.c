/* createContainer and startContainer hooks: run by the init from inside the
 * container's namespaces (createContainer before pivot_root, startContainer
 * after it), each with its state document on stdin. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"
#include "sync.h"

extern char **environ;

static char *g_state_creating = NULL, *g_state_created = NULL;

void hooks_set_states(char *creating, char *created) {
  g_state_creating = creating;
  g_state_created = created;
}

/* The record's tail is the hook's nargs arguments, then (has_env) its env. */
void op_hook(struct record *r) {
  const char *kind = r->argv[2], *path = r->argv[3];
  long timeout_ms = strtol(r->argv[4], NULL, 10) * 1000;
  size_t nargs = (size_t)arg_num(r->argv[5]);
  int has_env = r->argv[6][0] == '1';
  if (nargs > r->argc - 7) fail("read the launch plan", NULL, 0, r->argv[0], "more hook arguments counted than given");
  size_t nenv = r->argc - 7 - nargs;
  char **argv = calloc(nargs + 2, sizeof(char *));
  char **envp = calloc(nenv + 1, sizeof(char *));
  for (size_t i = 0; i < nargs; i++) argv[i] = r->argv[7 + i];
  if (nargs == 0) argv[0] = (char *)path;
  for (size_t i = 0; i < nenv; i++) envp[i] = r->argv[7 + nargs + i];
  const char *state = strcmp(kind, "startContainer") == 0 ? g_state_created : g_state_creating;
  if (!state) state = "{}";
  char step[64];
  snprintf(step, sizeof step, "run %s hook", kind);

  int in[2], errp[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) fail(step, "pipe2", errno, path, NULL);
  /* A hook that does not read its stdin must not kill the init with SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) fail(step, "fork", errno, path, NULL);
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    execve(path, argv, has_env ? envp : environ);
    int e = errno;
    if (write(errp[1], &e, sizeof e) < 0) {}
    _exit(127);
  }
  close(in[0]);
  close(errp[1]);
  size_t len = strlen(state), off = 0;
  while (off < len) {
    ssize_t n = write(in[1], state + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; /* the hook did not read it all: its business */
    off += (size_t)n;
  }
  close(in[1]);
  int exec_err = 0;
  if (read(errp[0], &exec_err, sizeof exec_err) == sizeof exec_err) {
    waitpid(pid, NULL, 0);
    fail(step, "execve", exec_err, path, NULL);
  }
  close(errp[0]);
  int status = 0;
  long waited = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, timeout_ms > 0 ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) fail(step, "waitpid", errno, path, NULL);
    if (timeout_ms > 0 && w == 0) {
      if (waited >= timeout_ms) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        char d[64];
        snprintf(d, sizeof d, "timed out after %lds", timeout_ms / 1000);
        fail(step, NULL, 0, path, d);
      }
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
      waited += 1;
    }
  }
  signal(SIGPIPE, SIG_DFL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char d[64];
    if (WIFSIGNALED(status)) snprintf(d, sizeof d, "killed by signal %d", WTERMSIG(status));
    else snprintf(d, sizeof d, "exit status %d", WEXITSTATUS(status));
    fail(step, NULL, 0, path, d);
  }
  free(argv);
  free(envp);
}
