// File, mount, socket and terminal calls the runtime, the image unpacker and
// the snapshotters need and Node lacks.
#include "addon.h"

#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

namespace tsrun {

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

}  // namespace tsrun
