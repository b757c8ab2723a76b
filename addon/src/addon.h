// What the addon's files share: the error every wrapper throws and the
// functions addon.cc registers. Each wrapper is a thin syscall binding that
// holds no policy; src/native/addon.ts types them and TypeScript decides.
#pragma once

#include <napi.h>

#include <errno.h>
#include <string.h>

#include <string>

namespace tsrun {

// An Error carrying `code` (errno name), `errno` (negative, as Node's), `syscall`
// and, when given, `path`: the shape Node's own fs errors have.
inline Napi::Error SysError(Napi::Env env, const char *syscall, int err, const std::string &path = "") {
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

// spawn.cc: the helper from a sealed memfd, and sealed memfds for data.
Napi::Value SpawnInit(const Napi::CallbackInfo &info);
Napi::Value SealedMemfd(const Napi::CallbackInfo &info);

// sync.cc: messages on the sync socket, with an fd attached (SCM_RIGHTS) or not.
Napi::Value Send(const Napi::CallbackInfo &info);
Napi::Value SendWithFd(const Napi::CallbackInfo &info);
Napi::Value Recv(const Napi::CallbackInfo &info);

// process.cc: waiting for and signalling processes.
Napi::Value WaitPid(const Napi::CallbackInfo &info);
Napi::Value WaitPidAsync(const Napi::CallbackInfo &info);
Napi::Value Kill(const Napi::CallbackInfo &info);
Napi::Value KillSame(const Napi::CallbackInfo &info);

// files.cc: file, mount, socket and terminal calls Node lacks.
Napi::Value Flock(const Napi::CallbackInfo &info);
Napi::Value Mkfifo(const Napi::CallbackInfo &info);
Napi::Value Mknod(const Napi::CallbackInfo &info);
Napi::Value Lsetxattr(const Napi::CallbackInfo &info);
Napi::Value Lgetxattr(const Napi::CallbackInfo &info);
Napi::Value Mount(const Napi::CallbackInfo &info);
Napi::Value Umount(const Napi::CallbackInfo &info);
Napi::Value ConnectUnix(const Napi::CallbackInfo &info);
Napi::Value SocketPair(const Napi::CallbackInfo &info);
Napi::Value SetWinsize(const Napi::CallbackInfo &info);

// seccomp.cc: profiles compiled to BPF by libseccomp.
Napi::Value CompileSeccomp(const Napi::CallbackInfo &info);
Napi::Value SeccompVersion(const Napi::CallbackInfo &info);

// seqpacket.cc: SOCK_SEQPACKET clients watched on the event loop (the shim's socket).
Napi::Value SeqpacketConnect(const Napi::CallbackInfo &info);
Napi::Value SeqpacketWatch(const Napi::CallbackInfo &info);
Napi::Value SeqpacketSend(const Napi::CallbackInfo &info);

// cgroupDevices.cc: loading and attaching the device program TypeScript built.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info);

}  // namespace tsrun
