// start: what src/runtime/start.ts does on its happy path. A report that is not
// the plain "0" (an ERR record, or nothing) is handed to the CLI in start.report.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../init/protocol.h"
#include "handover.h"
#include "io.h"
#include "status.h"
#include "verbs.h"

int verb_start(const char *dir, const struct fast_state *fs) {
  if (fs->poststart) to_cli();
  char path[PATH_MAX];
  int lock = lock_in_status(dir, fs, "created");
  char fifo[PATH_MAX];
  snprintf(fifo, sizeof fifo, "%s/exec.fifo", dir);
  int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    close(lock);
    to_cli();
  }
  char buf[65536];
  size_t have = 0;
  int saw_writer = 0;
  for (;;) {
    ssize_t r = read(fd, buf + have, sizeof buf - have);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) {
      saw_writer = 1;
      if (!init_alive(fs) && have == 0) break;  // the CLI names it
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
      continue;
    }
    if (r < 0) break;
    if (r > 0) {
      saw_writer = 1;
      have += (size_t)r;
      if (have == sizeof buf) break;
      continue;
    }
    // EOF before any writer: the init is on its way to the fifo (create returned on READY,
    // just before it opens it) or dead. Wait for the one, let the CLI name the other.
    if (!saw_writer && have == 0 && init_alive(fs)) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
      continue;
    }
    break;  // EOF
  }
  close(fd);
  if (have == sizeof FIFO_REPORT_STARTED - 1 && memcmp(buf, FIFO_REPORT_STARTED, have) == 0) {
    unlink(fifo);
    close(lock);
    return 0;
  }
  {
    // Consumed (or, empty, the init died before it opened the fifo): the CLI cannot read it
    // again from the fifo, so it gets it from here and names what happened.
    snprintf(path, sizeof path, "%s/start.report", dir);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out >= 0) {
      write_all(out, buf, have);
      close(out);
    }
  }
  close(lock);
  to_cli();
}
