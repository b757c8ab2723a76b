// The cgroup v2 device filter: loads the BPF_PROG_TYPE_CGROUP_DEVICE program
// TypeScript built (src/linux/cgroups/deviceProgram.ts) and attaches it to a
// cgroup. The rules and their order are policy and live there, not here.
#include "addon.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

namespace tsrun {

// attachDeviceFilter(cgroupDir, program: Buffer of struct bpf_insn). A program
// the verifier refuses fails with its log (the first 500 bytes) as the path.
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(env, "attachDeviceFilter: the program must be a Buffer of struct bpf_insn");
  Napi::Buffer<uint8_t> program = info[1].As<Napi::Buffer<uint8_t>>();
  if (program.Length() == 0 || program.Length() % sizeof(struct bpf_insn) != 0)
    throw SysError(env, "bpf(BPF_PROG_LOAD)", EINVAL, "a program of whole instructions");
  static char license[] = "Apache-2.0";
  std::vector<char> log(65536);
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insn_cnt = (uint32_t)(program.Length() / sizeof(struct bpf_insn));
  load.insns = (uint64_t)(uintptr_t)program.Data();
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
  return env.Undefined();
}

}  // namespace tsrun
