// The N-API addon: the syscalls Node does not offer, each a thin wrapper that
// throws an Error carrying `code` (errno name) and `syscall`. It holds no
// policy; src/native/addon.ts types it and src/runtime decides what to call.
#include <napi.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <linux/bpf.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char **environ;

namespace {

Napi::Error SysError(Napi::Env env, const char *syscall, int err, const std::string &path = "") {
  const char *name = strerrorname_np(err);
  std::string msg = std::string(name ? name : "EUNKNOWN") + ": " + strerror(err) + ", " + syscall;
  if (!path.empty()) msg += " '" + path + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
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
  if (fchmod(mfd, 0555) < 0 ||
      fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(mfd);
    errno = e;
    return -1;
  }
  return mfd;
}

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
  size_t done = 0;
  while (done < plan.Length()) {
    ssize_t n = write(planfd, plan.Data() + done, plan.Length() - done);
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(sv[0]);
      close(sv[1]);
      close(planfd);
      throw SysError(env, "write", e, "launch plan memfd");
    }
    done += (size_t)n;
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
  size_t off = 0;
  while (off < b.Length()) {
    ssize_t n = write(mfd, b.Data() + off, b.Length() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(mfd);
      throw SysError(env, "write", e);
    }
    off += (size_t)n;
  }
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(mfd);
    throw SysError(env, "fcntl(F_ADD_SEALS)", e);
  }
  return Napi::Number::New(env, mfd);
}

// sendWithFd(sock, data, fd): one message with an fd attached (SCM_RIGHTS).
Napi::Value SendWithFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  int fd = info[2].As<Napi::Number>().Int32Value();
  struct iovec iov = {b.Data(), b.Length()};
  union {
    char c[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.c;
  msg.msg_controllen = sizeof u.c;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw SysError(env, "sendmsg", errno);
  return env.Undefined();
}

// recv(fd, timeoutMs) -> Buffer, or null at EOF. Throws ETIMEDOUT on timeout.
// A message that carries an fd (SCM_RIGHTS) gets it as the Buffer's `fd` property.
Napi::Value Recv(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  do rc = poll(&p, 1, timeout);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw SysError(env, "poll", errno);
  if (rc == 0) throw SysError(env, "poll", ETIMEDOUT);
  std::vector<char> buf(1 << 20);
  struct iovec iov = {buf.data(), buf.size()};
  union {
    char c[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = u.c;
  msg.msg_controllen = sizeof u.c;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNRESET) return env.Null();
    throw SysError(env, "recv", errno);
  }
  if (n == 0) return env.Null();
  Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, buf.data(), (size_t)n);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
    int got;
    memcpy(&got, CMSG_DATA(c), sizeof got);
    out.Set("fd", Napi::Number::New(env, got));
  }
  return out;
}

Napi::Value Send(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  ssize_t n;
  do n = send(fd, b.Data(), b.Length(), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw SysError(env, "send", errno);
  return env.Undefined();
}

Napi::Object StatusObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  if (pid > 0 && WIFEXITED(status)) o.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(status)));
  if (pid > 0 && WIFSIGNALED(status)) o.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  return o;
}

// waitPid(pid, nohang) -> { pid, exitCode?, signal? }; pid 0 when nohang and still running.
Napi::Value WaitPid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  bool nohang = info[1].As<Napi::Boolean>();
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, nohang ? WNOHANG : 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) throw SysError(env, "waitpid", errno);
  return StatusObject(env, r, status);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, pid_t pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    do result_ = waitpid(pid_, &status_, 0);
    while (result_ < 0 && errno == EINTR);
    err_ = result_ < 0 ? errno : 0;
  }
  void OnOK() override {
    if (err_) deferred_.Reject(SysError(Env(), "waitpid", err_).Value());
    else deferred_.Resolve(StatusObject(Env(), result_, status_));
  }

 private:
  pid_t pid_;
  pid_t result_ = -1;
  int status_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

// waitPidAsync(pid) -> Promise<{ pid, exitCode?, signal? }>, waiting on a pool thread.
Napi::Value WaitPidAsync(const Napi::CallbackInfo &info) {
  auto *w = new WaitWorker(info.Env(), info[0].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>();
  bool nonblock = info[2].As<Napi::Boolean>();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (nonblock ? LOCK_NB : 0);
  int rc;
  do rc = flock(fd, op);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) throw SysError(env, "flock", errno);
  return env.Undefined();
}

Napi::Value ConnectUnix(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) throw SysError(env, "connect", ENAMETOOLONG, path);
  memcpy(sa.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SysError(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(fd);
    throw SysError(env, "connect", e, path);
  }
  return Napi::Number::New(env, fd);
}

Napi::Value SocketPair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) throw SysError(env, "socketpair", errno);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, sv[0]));
  a.Set(1u, Napi::Number::New(env, sv[1]));
  return a;
}

Napi::Value Kill(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (kill(pid, sig) < 0) throw SysError(env, "kill", errno);
  return env.Undefined();
}

// Field 22 of /proc/<pid>/stat (start time in clock ticks), or "" if gone.
static std::string StartTimeOf(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return "";
  buf[n] = 0;
  char *f = strrchr(buf, ')');
  if (!f || f[1] != ' ') return "";
  f += 2;
  if (*f == 'Z' || *f == 'X') return "";
  for (int i = 0; i < 19 && f; i++) {
    f = strchr(f, ' ');
    if (f) f++;
  }
  if (!f) return "";
  return std::string(f, strcspn(f, " "));
}

// killSame(pid, startTime, signal): signals pid only if it is still the process
// that started at startTime. The check is made after a pidfd is taken and the
// signal goes through that pidfd, so a pid reused in between is never hit
// (ESRCH instead). Kernels without pidfds: check, then kill().
Napi::Value KillSame(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  std::string start = info[1].As<Napi::String>().Utf8Value();
  int sig = info[2].As<Napi::Number>().Int32Value();
  if (pid <= 0 || start.empty()) throw SysError(env, "kill", ESRCH);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0 && errno != ENOSYS) throw SysError(env, "pidfd_open", errno);
  if (StartTimeOf(pid) != start) {
    if (pidfd >= 0) close(pidfd);
    throw SysError(env, "kill", ESRCH);
  }
  long rc = pidfd >= 0 ? syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) : kill(pid, sig);
  int e = errno;
  if (pidfd >= 0) close(pidfd);
  if (rc < 0) throw SysError(env, pidfd >= 0 ? "pidfd_send_signal" : "kill", e);
  return env.Undefined();
}

Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) throw SysError(env, "ioctl(TIOCSWINSZ)", errno);
  return env.Undefined();
}

Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  mode_t old = umask(0);
  int rc = mkfifo(path.c_str(), mode);
  int e = errno;
  umask(old);
  if (rc < 0) throw SysError(env, "mkfifo", e, path);
  return env.Undefined();
}

// compileSeccomp({ defaultAction, architectures: [names], rules: [{ names, action, args: [{ index, op, value, valueTwo }] }] })
// -> { bpf: Buffer, skipped: [names libseccomp does not know] }. Actions and ops
// arrive as libseccomp numbers, values as decimal strings (64-bit).
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object prof = info[0].As<Napi::Object>();
  uint32_t def = prof.Get("defaultAction").As<Napi::Number>().Uint32Value();
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx) throw SysError(env, "seccomp_init", EINVAL);
  // No filter attribute makes libseccomp load anything: we only export BPF.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  auto cleanup = [&](const char *call, int rc, const std::string &what) {
    seccomp_release(ctx);
    return SysError(env, call, -rc, what);
  };
  Napi::Array archs = prof.Get("architectures").As<Napi::Array>();
  for (uint32_t i = 0; i < archs.Length(); i++) {
    std::string name = archs.Get(i).As<Napi::String>();
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
    if (arch == 0) throw cleanup("seccomp_arch_resolve_name", -EINVAL, name);
    int rc = seccomp_arch_add(ctx, arch);
    if (rc < 0 && rc != -EEXIST) throw cleanup("seccomp_arch_add", rc, name);
  }
  Napi::Array skipped = Napi::Array::New(env);
  Napi::Array rules = prof.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    uint32_t action = rule.Get("action").As<Napi::Number>().Uint32Value();
    Napi::Array names = rule.Get("names").As<Napi::Array>();
    Napi::Array args = rule.Get("args").As<Napi::Array>();
    std::vector<scmp_arg_cmp> cmps;
    bool repeatedIndex = false;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      scmp_arg_cmp c;
      c.arg = a.Get("index").As<Napi::Number>().Uint32Value();
      c.op = (scmp_compare)a.Get("op").As<Napi::Number>().Uint32Value();
      c.datum_a = strtoull(std::string(a.Get("value").As<Napi::String>()).c_str(), nullptr, 10);
      c.datum_b = strtoull(std::string(a.Get("valueTwo").As<Napi::String>()).c_str(), nullptr, 10);
      for (auto &prev : cmps)
        if (prev.arg == c.arg) repeatedIndex = true;
      cmps.push_back(c);
    }
    for (uint32_t n = 0; n < names.Length(); n++) {
      std::string name = names.Get(n).As<Napi::String>();
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        skipped.Set(skipped.Length(), Napi::String::New(env, name));
        continue;
      }
      if (action == def) continue;  // libseccomp refuses rules that repeat the default
      int rc;
      if (!repeatedIndex) {
        rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)cmps.size(), cmps.empty() ? nullptr : cmps.data());
      } else {
        // Conditions on the same argument cannot be ANDed in one rule: one rule each (runc does the same).
        rc = 0;
        for (auto &c : cmps) {
          rc = seccomp_rule_add_array(ctx, action, nr, 1, &c);
          if (rc < 0) break;
        }
      }
      if (rc < 0) throw cleanup("seccomp_rule_add", rc, name);
    }
  }
  int mfd = memfd_create("tsrun-seccomp", MFD_CLOEXEC);
  if (mfd < 0) {
    int e = errno;
    seccomp_release(ctx);
    throw SysError(env, "memfd_create", e);
  }
  int rc = seccomp_export_bpf(ctx, mfd);
  seccomp_release(ctx);
  if (rc < 0) {
    close(mfd);
    throw SysError(env, "seccomp_export_bpf", -rc);
  }
  off_t size = lseek(mfd, 0, SEEK_END);
  std::vector<char> buf((size_t)size);
  if (pread(mfd, buf.data(), buf.size(), 0) != (ssize_t)buf.size()) {
    int e = errno;
    close(mfd);
    throw SysError(env, "pread", e);
  }
  close(mfd);
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<char>::Copy(env, buf.data(), buf.size()));
  out.Set("skipped", skipped);
  return out;
}

// ---- cgroup v2 device filter ----
// Each rule: { allow, type: 0 any | 1 block | 2 char, major: -1 any, minor: -1 any, access: bits (1 mknod, 2 read, 4 write) }.
// The program checks the rules last to first and returns at the first match
// (so the last matching rule wins, as with v1's lists); nothing matched: allow,
// v1's default for a new cgroup.
struct DeviceRule {
  bool allow;
  int type, major, minor, access;
};

static bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

static std::vector<bpf_insn> DeviceProgram(const std::vector<DeviceRule> &rules) {
  std::vector<bpf_insn> p;
  // r2 = access_type; r3 = type (low 16); r4 = access (high 16); r5 = major; r6 = minor
  p.push_back(Insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0));
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
  p.push_back(Insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff));
  p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_4, BPF_REG_2, 0, 0));
  p.push_back(Insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_4, 0, 0, 16));
  p.push_back(Insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 4, 0));
  p.push_back(Insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_6, BPF_REG_1, 8, 0));
  bool unconditional = false;
  for (auto it = rules.rbegin(); it != rules.rend() && !unconditional; ++it) {
    std::vector<bpf_insn> block;
    // Each check jumps forward to the end of the block when the rule does not match; offsets are patched below.
    std::vector<size_t> jumps;
    if (it->type) {
      jumps.push_back(block.size());
      block.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 0, it->type));
    }
    if (it->allow) {
      // allow matches when every requested access bit is allowed
      int denied = (~it->access) & 7;
      if (denied) {
        jumps.push_back(block.size());
        block.push_back(Insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_4, 0, 0, denied));
      }
    } else {
      // deny matches when any requested access bit is denied
      block.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_4, 0, 0));
      block.push_back(Insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_7, 0, 0, it->access & 7));
      jumps.push_back(block.size());
      block.push_back(Insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_7, 0, 0, 0));
    }
    if (it->major >= 0) {
      jumps.push_back(block.size());
      block.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 0, it->major));
    }
    if (it->minor >= 0) {
      jumps.push_back(block.size());
      block.push_back(Insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_6, 0, 0, it->minor));
    }
    block.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, it->allow ? 1 : 0));
    block.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
    for (size_t j : jumps) block[j].off = (int16_t)(block.size() - j - 1);
    p.insert(p.end(), block.begin(), block.end());
    // A rule that matches every request ends the program: the verifier refuses unreachable code.
    unconditional = jumps.empty();
  }
  if (!unconditional) {
    p.push_back(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1));
    p.push_back(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  return p;
}

// attachDeviceFilter(cgroupDir, rules) — loads the program and attaches it to the cgroup.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<DeviceRule> rules;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    rules.push_back({o.Get("allow").As<Napi::Boolean>(), o.Get("type").As<Napi::Number>().Int32Value(),
                     o.Get("major").As<Napi::Number>().Int32Value(), o.Get("minor").As<Napi::Number>().Int32Value(),
                     o.Get("access").As<Napi::Number>().Int32Value()});
  }
  std::vector<bpf_insn> prog = DeviceProgram(rules);
  static char license[] = "Apache-2.0";
  std::vector<char> log(65536);
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = (uint32_t)prog.size();
  load.insns = (uint64_t)(uintptr_t)prog.data();
  load.license = (uint64_t)(uintptr_t)license;
  load.log_buf = (uint64_t)(uintptr_t)log.data();
  load.log_size = (uint32_t)log.size();
  load.log_level = 1;
  int progfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
  if (progfd < 0) throw SysError(env, "bpf(BPF_PROG_LOAD)", errno, std::string(log.data()).substr(0, 500));
  int cgfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    int e = errno;
    close(progfd);
    throw SysError(env, "open", e, dir);
  }
  union bpf_attr attach;
  memset(&attach, 0, sizeof attach);
  attach.target_fd = (uint32_t)cgfd;
  attach.attach_bpf_fd = (uint32_t)progfd;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach);
  int e = errno;
  close(cgfd);
  close(progfd);
  if (rc < 0) throw SysError(env, "bpf(BPF_PROG_ATTACH)", e, dir);
  return Napi::Number::New(env, (double)prog.size());
}

Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  const struct scmp_version *v = seccomp_version();
  char s[32];
  snprintf(s, sizeof s, "%u.%u.%u", v->major, v->minor, v->micro);
  return Napi::String::New(info.Env(), s);
}

// Filesystem calls the image unpacker and snapshotters need and Node lacks.

// mknod(path, mode incl. S_IFCHR/S_IFBLK/S_IFIFO, major, minor)
Napi::Value Mknod(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  mode_t mode = info[1].As<Napi::Number>().Uint32Value();
  dev_t dev = makedev(info[2].As<Napi::Number>().Uint32Value(), info[3].As<Napi::Number>().Uint32Value());
  mode_t old = umask(0);
  int rc = mknod(path.c_str(), mode, dev);
  int e = errno;
  umask(old);
  if (rc < 0) throw SysError(env, "mknod", e, path);
  return env.Undefined();
}

// lsetxattr(path, name, value: Buffer): never follows a symlink.
Napi::Value Lsetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    throw SysError(env, ("lsetxattr(" + name + ")").c_str(), errno, path);
  return env.Undefined();
}

// lgetxattr(path, name) -> Buffer | null when the attribute is absent.
Napi::Value Lgetxattr(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  char buf[65536];
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA) return env.Null();
    throw SysError(env, ("lgetxattr(" + name + ")").c_str(), errno, path);
  }
  return Napi::Buffer<char>::Copy(env, buf, (size_t)n);
}

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>();
  std::string target = info[1].As<Napi::String>();
  std::string fstype = info[2].As<Napi::String>();
  unsigned long flags = (unsigned long)info[3].As<Napi::Number>().Int64Value();
  std::string data = info[4].As<Napi::String>();
  if (mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0)
    throw SysError(env, "mount", errno, target);
  return env.Undefined();
}

// umount2(target, flags)
Napi::Value Umount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  if (umount2(target.c_str(), flags) < 0) throw SysError(env, "umount2", errno, target);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("recv", Napi::Function::New(env, Recv));
  exports.Set("send", Napi::Function::New(env, Send));
  exports.Set("sendWithFd", Napi::Function::New(env, SendWithFd));
  exports.Set("sealedMemfd", Napi::Function::New(env, SealedMemfd));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid));
  exports.Set("waitPidAsync", Napi::Function::New(env, WaitPidAsync));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("kill", Napi::Function::New(env, Kill));
  exports.Set("killSame", Napi::Function::New(env, KillSame));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun, Init)
