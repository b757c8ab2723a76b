// seccomp profiles compiled to BPF by libseccomp, in the runtime (never in a
// child); the plan carries the bytes to tsrun-init, which loads them.
#include "addon.h"

#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

namespace tsrun {

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

Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  const struct scmp_version *v = seccomp_version();
  char s[32];
  snprintf(s, sizeof s, "%u.%u.%u", v->major, v->minor, v->micro);
  return Napi::String::New(info.Env(), s);
}

}  // namespace tsrun
