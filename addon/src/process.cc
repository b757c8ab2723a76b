// Waiting for and signalling processes: waitpid on the calling thread or on a
// pool thread, kill, and a kill that cannot hit a reused pid.
#include "addon.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tsrun {
namespace {

Napi::Object StatusObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  if (pid > 0 && WIFEXITED(status)) o.Set("exitCode", Napi::Number::New(env, WEXITSTATUS(status)));
  if (pid > 0 && WIFSIGNALED(status)) o.Set("signal", Napi::Number::New(env, WTERMSIG(status)));
  return o;
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

// Field 22 of /proc/<pid>/stat (start time in clock ticks), or "" if gone.
std::string StartTimeOf(pid_t pid) {
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

}  // namespace

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

// waitPidAsync(pid) -> Promise<{ pid, exitCode?, signal? }>, waiting on a pool thread.
Napi::Value WaitPidAsync(const Napi::CallbackInfo &info) {
  auto *w = new WaitWorker(info.Env(), info[0].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value Kill(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (kill(pid, sig) < 0) throw SysError(env, "kill", errno);
  return env.Undefined();
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

}  // namespace tsrun
