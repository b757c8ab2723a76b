// Socket messages: the sync socket with tsrun-init (one SOCK_SEQPACKET message
// per call) and the console socket, optionally carrying an fd (SCM_RIGHTS).
#include "addon.h"
#include "../common/fdmsg.h"

#include <poll.h>
#include <sys/socket.h>

#include <vector>

namespace tsrun {

// sendWithFd(sock, data, fd): one message with an fd attached (SCM_RIGHTS).
Napi::Value SendWithFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  int fd = info[2].As<Napi::Number>().Int32Value();
  if (fdmsg_send(sock, b.Data(), b.Length(), fd) < 0) throw SysError(env, "sendmsg", errno);
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
  int got = -1, truncated = 0;
  ssize_t n = fdmsg_recv(fd, buf.data(), buf.size(), &got, &truncated);
  if (n < 0) {
    if (errno == ECONNRESET) return env.Null();
    throw SysError(env, "recv", errno);
  }
  if (n == 0) return env.Null();
  Napi::Buffer<char> out = Napi::Buffer<char>::Copy(env, buf.data(), (size_t)n);
  if (got >= 0) out.Set("fd", Napi::Number::New(env, got));
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

}  // namespace tsrun
