#!/usr/bin/env bash
# Builds a busybox bundle from Debian's busybox-static and runs it with tsrun.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-/tmp/tsrun-demo}
rm -rf "$bundle"
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev" "$bundle/rootfs/etc" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$applet"; done
./bin/tsrun spec --bundle "$bundle"
# Not a terminal (so the demo also works in a pipe), and say who we are.
node -e '
  const fs = require("fs"); const f = process.argv[1];
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false;
  c.process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$ in its own namespaces\"; id; ls /"];
  fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$bundle/config.json"
./bin/tsrun run --bundle "$bundle" "demo-$$"
