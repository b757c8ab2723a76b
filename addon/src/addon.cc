// The N-API addon's registration: the JavaScript name of every function the
// addon exports. src/native/addon.ts types the same names, and
// test/unit/addonExports.test.ts fails when the two lists differ.
#include "addon.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace tsrun;
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
  exports.Set("seqpacketConnect", Napi::Function::New(env, SeqpacketConnect));
  exports.Set("seqpacketWatch", Napi::Function::New(env, SeqpacketWatch));
  exports.Set("seqpacketSend", Napi::Function::New(env, SeqpacketSend));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun, Init)
