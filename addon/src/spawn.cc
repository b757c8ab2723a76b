// Starting tsrun-init, and sealed memfds. The helper runs from a sealed copy
// of its binary, and data too big for one socket message travels as a sealed
// memfd: a process that can reach either fd can never change what it holds.
#include "addon.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

namespace tsrun {
namespace {

// The one seal set every memfd of ours gets: no more writes, no resizing, and
// no removing or adding seals later.
int SealMemfd(int mfd) {
  return fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
}

// Writes all of data; 0, or the errno that stopped it (EIO for a write of 0).
int WriteAll(int fd, const char *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += (size_t)n;
  }
  return 0;
}

// Copies `path` into a sealed memfd: the process that runs inside the
// container's namespaces then executes an image nobody can overwrite through
// /proc/<pid>/exe (CVE-2019-5736).
int SealedCopy(const char *path, const char *name) {
  int src = open(path, O_RDONLY | O_CLOEXEC);
  if (src < 0) return -1;
  struct stat st;
  if (fstat(src, &st) < 0) {
    int e = errno;
    close(src);
    errno = e;
    return -1;
  }
  int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) {
    int e = errno;
    close(src);
    errno = e;
    return -1;
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, st.st_size - off);
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(src);
      close(mfd);
      errno = e;
      return -1;
    }
  }
  close(src);
  if (fchmod(mfd, 0555) < 0 || SealMemfd(mfd) < 0) {
    int e = errno;
    close(mfd);
    errno = e;
    return -1;
  }
  return mfd;
}

}  // namespace

// spawnInit(helperPath, plan: Buffer, preserveFds, consoleFd) -> { pid, sock }
Napi::Value SpawnInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string helper = info[0].As<Napi::String>();
  Napi::Buffer<char> plan = info[1].As<Napi::Buffer<char>>();
  int preserve = info[2].As<Napi::Number>().Int32Value();
  int console = info[3].As<Napi::Number>().Int32Value();

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) throw SysError(env, "socketpair", errno);
  int planfd = memfd_create("tsrun-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (planfd < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    throw SysError(env, "memfd_create", e);
  }
  if (int e = WriteAll(planfd, plan.Data(), plan.Length())) {
    close(sv[0]);
    close(sv[1]);
    close(planfd);
    throw SysError(env, "write", e, "launch plan memfd");
  }
  // Sealed like the helper's copy: nothing that reaches the fd later can change the plan.
  if (SealMemfd(planfd) < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    close(planfd);
    throw SysError(env, "fcntl", e, "seal the launch plan memfd");
  }
  int exefd = SealedCopy(helper.c_str(), "tsrun-init");
  if (exefd < 0) {
    int e = errno;
    close(sv[0]);
    close(sv[1]);
    close(planfd);
    throw SysError(env, "open", e, helper);
  }

  // The helper's own fds go right above the preserved range; stdio and
  // 3..3+preserve-1 keep their numbers, everything else is close-on-exec.
  int base = 3 + preserve;
  int syncTarget = base, planTarget = base + 1, consoleTarget = console >= 0 ? base + 2 : -1;
  // Park the sources above every target first so no dup2 below clobbers a
  // source. Only just above: an fd past the table's size makes the kernel grow
  // it, and in a multi-threaded process that waits for an RCU grace period
  // (~9 ms measured here with fds at 1000).
  int high = base + 3;
  int tmpSync = fcntl(sv[1], F_DUPFD_CLOEXEC, high);
  int tmpPlan = fcntl(planfd, F_DUPFD_CLOEXEC, high);
  int tmpConsole = console >= 0 ? fcntl(console, F_DUPFD_CLOEXEC, high) : -1;

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, tmpSync, syncTarget);
  posix_spawn_file_actions_adddup2(&fa, tmpPlan, planTarget);
  if (consoleTarget >= 0) posix_spawn_file_actions_adddup2(&fa, tmpConsole, consoleTarget);
  // stdio and the preserved fds must survive the exec: Node marks even 0-2
  // close-on-exec, and dup2(fd, fd) in a file action clears that flag.
  for (int fd = 0; fd < base; fd++) posix_spawn_file_actions_adddup2(&fa, fd, fd);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  // Node ignores SIGPIPE and blocks some signals; the container must start clean.
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  char exePath[64], a1[16], a2[16], a3[16], a4[16];
  snprintf(exePath, sizeof exePath, "/proc/self/fd/%d", exefd);
  snprintf(a1, sizeof a1, "%d", syncTarget);
  snprintf(a2, sizeof a2, "%d", planTarget);
  snprintf(a3, sizeof a3, "%d", preserve);
  snprintf(a4, sizeof a4, "%d", consoleTarget);
  char *argv[] = {(char *)"tsrun-init", a1, a2, a3, a4, nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exePath, &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(tmpSync);
  close(tmpPlan);
  if (tmpConsole >= 0) close(tmpConsole);
  close(sv[1]);
  close(planfd);
  close(exefd);
  if (rc != 0) {
    close(sv[0]);
    throw SysError(env, "posix_spawn", rc, helper);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, pid));
  out.Set("sock", Napi::Number::New(env, sv[0]));
  return out;
}

// sealedMemfd(name, data) -> fd: bytes too big for one socket message (the
// state documents the init hands its hooks) travel as a sealed memfd.
Napi::Value SealedMemfd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>().Utf8Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  int mfd = memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) throw SysError(env, "memfd_create", errno);
  if (int e = WriteAll(mfd, b.Data(), b.Length())) {
    close(mfd);
    throw SysError(env, "write", e);
  }
  if (SealMemfd(mfd) < 0) {
    int e = errno;
    close(mfd);
    throw SysError(env, "fcntl(F_ADD_SEALS)", e);
  }
  return Napi::Number::New(env, mfd);
}

}  // namespace tsrun
