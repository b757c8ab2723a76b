// SOCK_SEQPACKET clients for a daemon's event loop (the shim's control socket,
// docs/shim.md). Node's net module speaks only stream sockets, and a blocking
// recv would stall the loop, so the socket is non-blocking and watched with a
// uv_poll on the loop itself: each message arrives as one callback, EOF as
// null. No thread is involved and nothing here blocks.
#include "addon.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <vector>

namespace tsrun {

namespace {

// One message is at most a record of 64 KiB of data plus its framing.
constexpr size_t kMaxMessage = 1 << 18;

struct Watch {
  uv_poll_t poll;
  int fd;
  napi_env env;
  Napi::FunctionReference onMessage;
  Napi::ObjectReference resource;
  napi_async_context context = nullptr;
  bool closing = false;
};

// The poll handle holds one reference (freed when libuv is done with the
// handle), the JS close function another: calling close after EOF is a no-op.
using WatchRef = std::shared_ptr<Watch>;

void FreeWatch(uv_handle_t *h) {
  WatchRef *ref = static_cast<WatchRef *>(h->data);
  Watch *w = ref->get();
  if (w->context) napi_async_destroy(w->env, w->context);
  w->context = nullptr;
  close(w->fd);
  // The callback's strong reference is a GC root: kept, it held the caller's closure, which
  // holds the close function, which holds this Watch, so no connection was ever collected
  // (tsd grew ~6 KiB per container created, started and removed).
  w->onMessage.Reset();
  w->resource.Reset();
  delete ref;
}

void StopWatch(Watch *w) {
  if (w->closing) return;
  w->closing = true;
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&w->poll), FreeWatch);
}

void Deliver(Watch *w, napi_value arg) {
  napi_value global, fn = w->onMessage.Value(), result;
  napi_get_global(w->env, &global);
  // make_callback runs the microtasks the callback queued, as Node's own I/O does.
  napi_make_callback(w->env, w->context, global, fn, 1, &arg, &result);
}

void OnReadable(uv_poll_t *p, int status, int) {
  WatchRef keep = *static_cast<WatchRef *>(p->data);
  Watch *w = keep.get();
  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  static std::vector<char> buf(kMaxMessage);
  if (status < 0) {
    StopWatch(w);
    Deliver(w, env.Null());
    return;
  }
  // Drain what is there; every message is its own callback.
  while (!w->closing) {
    ssize_t n;
    do n = recv(w->fd, buf.data(), buf.size(), MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      StopWatch(w);
      Deliver(w, env.Null());
      return;
    }
    Deliver(w, Napi::Buffer<char>::Copy(env, buf.data(), (size_t)n));
  }
}

}  // namespace

// seqpacketConnect(path) -> fd: a non-blocking, close-on-exec SOCK_SEQPACKET
// connection to the unix socket at path.
Napi::Value SeqpacketConnect(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw SysError(env, "connect", ENAMETOOLONG, path);
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw SysError(env, "socket", errno);
  // A local connect completes at once or fails (never EINPROGRESS for AF_UNIX).
  if (connect(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof(addr)) < 0) {
    int e = errno;
    close(fd);
    throw SysError(env, "connect", e, path);
  }
  return Napi::Number::New(env, fd);
}

// seqpacketWatch(fd, onMessage) -> close(): calls onMessage(Buffer) per
// message and onMessage(null) once at EOF or error. The watch owns the fd:
// close() (or EOF) closes it.
Napi::Value SeqpacketWatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  WatchRef w = std::make_shared<Watch>();
  w->fd = fd;
  w->env = env;
  w->onMessage = Napi::Persistent(info[1].As<Napi::Function>());
  Napi::Object resource = Napi::Object::New(env);
  w->resource = Napi::Persistent(resource);
  napi_async_init(env, resource, Napi::String::New(env, "tsrun.seqpacket"), &w->context);
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) {
    napi_async_destroy(env, w->context);
    w->context = nullptr;
    throw SysError(env, "uv_poll_init", -rc);
  }
  w->poll.data = new WatchRef(w);
  uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, OnReadable);
  return Napi::Function::New(env, [w](const Napi::CallbackInfo &ci) {
    StopWatch(w.get());
    return ci.Env().Undefined();
  });
}

// seqpacketSend(fd, data) -> bool: one message; false when the socket's buffer
// is full (the caller retries later), never blocking.
Napi::Value SeqpacketSend(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<char> b = info[1].As<Napi::Buffer<char>>();
  ssize_t n;
  do n = send(fd, b.Data(), b.Length(), MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Napi::Boolean::New(env, false);
  if (n < 0) throw SysError(env, "send", errno);
  return Napi::Boolean::New(env, true);
}

}  // namespace tsrun
