/* The conformance probe: a static program that runs as the container process
 * and prints the container's view of itself as one JSON object, so tests can
 * compare it with the config. Arguments: --sysctl KEY (repeatable) reads
 * /proc/sys/KEY; --stat PATH (repeatable) reports a path's type and mode;
 * --write PATH tries to create a file there. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static void str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static char *slurp(const char *path) {
  static char buf[1 << 16];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n < 0) return NULL;
  buf[n] = '\0';
  while (n > 0 && buf[n - 1] == '\n') buf[--n] = '\0';
  return buf;
}

static void status_field(const char *key, const char *name) {
  char *s = slurp("/proc/self/status");
  char *line = s ? strstr(s, key) : NULL;
  printf("\"%s\":", name);
  if (!line) {
    printf("null");
    return;
  }
  line += strlen(key);
  while (*line == ' ' || *line == '\t') line++;
  char *end = strchr(line, '\n');
  if (end) *end = '\0';
  str(line);
}

int main(int argc, char **argv) {
  printf("{\"pid\":%d,\"uid\":%d,\"gid\":%d,\"euid\":%d,\"egid\":%d", getpid(), getuid(), getgid(), geteuid(), getegid());
  gid_t groups[256];
  int n = getgroups(256, groups);
  printf(",\"groups\":[");
  for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", groups[i]);
  printf("]");
  const char *caps[][2] = {{"CapInh:", "capInh"}, {"CapPrm:", "capPrm"}, {"CapEff:", "capEff"}, {"CapBnd:", "capBnd"}, {"CapAmb:", "capAmb"},
                           {"NoNewPrivs:", "noNewPrivs"}, {"Seccomp:", "seccomp"}, {"Umask:", "umask"}};
  for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    putchar(',');
    status_field(caps[i][0], caps[i][1]);
  }
  char cwd[4096];
  printf(",\"cwd\":");
  str(getcwd(cwd, sizeof cwd) ? cwd : "");
  struct utsname u;
  uname(&u);
  printf(",\"hostname\":");
  str(u.nodename);
  printf(",\"domainname\":");
  str(u.domainname);
  printf(",\"args\":[");
  for (int i = 0; i < argc; i++) {
    if (i) putchar(',');
    str(argv[i]);
  }
  printf("],\"env\":[");
  for (char **e = environ; *e; e++) {
    if (e != environ) putchar(',');
    str(*e);
  }
  printf("],\"ns\":{");
  const char *ns[] = {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
    char p[64], l[128];
    snprintf(p, sizeof p, "/proc/self/ns/%s", ns[i]);
    ssize_t k = readlink(p, l, sizeof l - 1);
    l[k > 0 ? k : 0] = '\0';
    printf("%s\"%s\":", i ? "," : "", ns[i]);
    str(l);
  }
  printf("},\"rlimits\":{");
  const char *rl[] = {"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE", "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};
  for (int i = 0; i < 16; i++) {
    struct rlimit r;
    getrlimit(i, &r);
    printf("%s\"RLIMIT_%s\":[%llu,%llu]", i ? "," : "", rl[i], (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
  }
  printf("}");
  const char *files[][2] = {{"/proc/self/oom_score_adj", "oomScoreAdj"}, {"/proc/self/personality", "personality"},
                            {"/proc/self/cgroup", "cgroup"}, {"/proc/self/mountinfo", "mountinfo"}, {"/proc/self/uid_map", "uidMap"},
                            {"/proc/self/gid_map", "gidMap"}, {"/proc/self/sched", "sched"}};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    char *s = slurp(files[i][0]);
    printf(",\"%s\":", files[i][1]);
    if (s) str(s);
    else printf("null");
  }
  printf(",\"ioprio\":%ld", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  printf(",\"sysctl\":{");
  int first = 1;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--sysctl") != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "/proc/sys/%s", argv[i + 1]);
    for (char *p = path + 10; *p; p++)
      if (*p == '.') *p = '/';
    char *s = slurp(path);
    printf("%s", first ? "" : ",");
    first = 0;
    str(argv[i + 1]);
    putchar(':');
    if (s) str(s);
    else printf("null");
  }
  printf("},\"stat\":{");
  first = 1;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--stat") != 0) continue;
    struct stat st;
    printf("%s", first ? "" : ",");
    first = 0;
    str(argv[i + 1]);
    if (lstat(argv[i + 1], &st) < 0) {
      printf(":{\"error\":%d}", errno);
      continue;
    }
    const char *type = S_ISDIR(st.st_mode) ? "dir" : S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" : S_ISLNK(st.st_mode) ? "link" : S_ISFIFO(st.st_mode) ? "fifo" : "file";
    printf(":{\"type\":\"%s\",\"mode\":%u,\"uid\":%u,\"gid\":%u,\"major\":%u,\"minor\":%u}", type, st.st_mode & 07777, st.st_uid, st.st_gid,
           major(st.st_rdev), minor(st.st_rdev));
  }
  printf("},\"write\":{");
  first = 1;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--write") != 0) continue;
    int fd = open(argv[i + 1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("%s", first ? "" : ",");
    first = 0;
    str(argv[i + 1]);
    printf(":%d", fd < 0 ? errno : 0);
    if (fd >= 0) close(fd);
  }
  printf("}}\n");
  return 0;
}
