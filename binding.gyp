{
  "targets": [
    {
      "target_name": "tsrun",
      "sources": ["addon/src/addon.cc", "addon/src/spawn.cc", "addon/src/sync.cc", "addon/src/process.cc", "addon/src/files.cc", "addon/src/seccomp.cc", "addon/src/cgroupDevices.cc", "addon/src/seqpacket.cc",
                  "addon/common/fdmsg.c"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lseccomp"]
    },
    {
      "target_name": "tsrun-init",
      "type": "executable",
      "sources": ["addon/init/init.c", "addon/init/namespaces.c", "addon/init/rootfs.c",
                  "addon/init/process.c", "addon/init/hooks.c", "addon/init/sync.c", "addon/common/record.c",
                  "addon/common/fdmsg.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "tsrun-cli",
      "type": "executable",
      "sources": [
        "addon/fast/main.c", "addon/fast/handover.c", "addon/fast/io.c", "addon/fast/fast_state.c",
        "addon/fast/status.c", "addon/fast/warmup.c",
        "addon/fast/state.c", "addon/fast/start.c", "addon/fast/kill.c", "addon/fast/delete.c"
      ],
      "defines": ["TSRUN_NODE=\"<!(node -p process.execPath)\""],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-format-truncation"],
      # Static: no dynamic loader on the 4-5 calls an engine makes per container
      # (state 2.04 -> 1.85 ms in-process). tsrun-init stays dynamic: it is copied
      # into a memfd per container, and a static copy measured no faster.
      "ldflags": ["-static"]
    },
    {
      "target_name": "tsrun-shim",
      "type": "executable",
      "sources": [
        "addon/shim/main.c", "addon/shim/loop.c", "addon/shim/control.c", "addon/shim/runtime.c",
        "addon/shim/stdio.c", "addon/shim/jsonlog.c", "addon/shim/exits.c",
        "addon/common/record.c", "addon/common/fdmsg.c"
      ],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-format-truncation"],
      # Static, like tsrun-cli: one shim per container stays resident, and
      # without the dynamic loader and libc's shared pages its RSS is smaller.
      "ldflags": ["-static"]
    }
  ]
}
