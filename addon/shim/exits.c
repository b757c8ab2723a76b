/* Exit records and the OOM check. An exit is on disk before anybody hears of
 * it (docs/shim.md): a daemon that was down when the container exited reads
 * DIR/exit after its restart. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

void rfc3339_now(char out[40]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

/* A temp file, fsync, rename over name, fsync of DIR: after a crash the file is
 * either the old one or the whole new one. */
int atomic_write(const char *name, const char *data, size_t len) {
  char tmp[256];
  snprintf(tmp, sizeof tmp, ".%s.tmp", name);
  int fd = openat(g_dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) goto fail;
    off += (size_t)n;
  }
  if (fsync(fd) < 0) goto fail;
  close(fd);
  if (renameat(g_dirfd, tmp, g_dirfd, name) < 0) {
    unlinkat(g_dirfd, tmp, 0);
    return -1;
  }
  return fsync(g_dirfd);
fail:
  close(fd);
  unlinkat(g_dirfd, tmp, 0);
  return -1;
}

int exit_record_write(const char *name, int code, const char *time, int oom) {
  char buf[128];
  int n = snprintf(buf, sizeof buf, "{\"code\":%d,\"time\":\"%s\",\"oom\":%s}\n", code, time, oom ? "true" : "false");
  return atomic_write(name, buf, (size_t)n);
}

/* The container's cgroup file that counts OOM kills, and its count after create. */
static char g_oom_file[512];
static long long g_oom_base = -1;

static long long oom_count(void) {
  if (!g_oom_file[0]) return -1;
  int fd = open(g_oom_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  /* v2 memory.events and v1 memory.oom_control both have a line "oom_kill N". */
  for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
    if (strncmp(line, "oom_kill ", 9) == 0) return atoll(line + 9);
  return -1;
}

void oom_init(pid_t pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  char v1[400] = "", v2[400] = "";
  char *save = NULL;
  for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = '\0';
    const char *controllers = c1 + 1, *cg = c2 + 1;
    if (strcmp(line, "0") == 0 && *controllers == '\0') snprintf(v2, sizeof v2, "%s", cg);
    else if (strcmp(controllers, "memory") == 0 || strstr(controllers, "memory,") == controllers ||
        strstr(controllers, ",memory"))
      snprintf(v1, sizeof v1, "%s", cg);
  }
  /* A v1 memory controller wins (hybrid hosts also show a 0:: line). */
  if (v1[0]) snprintf(g_oom_file, sizeof g_oom_file, "/sys/fs/cgroup/memory%s/memory.oom_control", v1);
  else if (v2[0]) snprintf(g_oom_file, sizeof g_oom_file, "/sys/fs/cgroup%s/memory.events", v2);
  g_oom_base = oom_count();
}

int oom_happened(void) {
  long long now = oom_count();
  return g_oom_base >= 0 && now > g_oom_base;
}
