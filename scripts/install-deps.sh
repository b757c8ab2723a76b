#!/usr/bin/env bash
# Installs what tsrun's build, demo and whole test suite need on Debian 12, as root.
# README command 1 and .ci/run both run this: one list, so a fresh machine that
# ran it passes `npm test` as it stands.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# Build: libseccomp-dev g++ make python3 (node-gyp); tests: the other runtimes and
# engines tsrun is compared with and plugged into (runc crun containerd podman
# docker.io), iproute2, busybox-static (test rootfs), and for images docker-registry
# skopeo zstd curl; for tsd: the CNI plugins and iptables (networks), tini (--init),
# containers-common's seccomp.json (the default seccomp profile), util-linux (unshare --net);
# docker-compose 1.29 (its tests against tsd).
packages=(libseccomp-dev busybox-static runc crun containerd podman docker.io make g++ python3 iproute2 docker-registry skopeo zstd curl
  containernetworking-plugins iptables tini golang-github-containers-common util-linux docker-compose)
need=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# An engine's real default seccomp profile for the seccomp tests (data only: the
# package is not installed, its JSON is extracted).
mkdir -p test-work
if [ ! -s test-work/containers-seccomp.json ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && { apt-get download golang-github-containers-common >/dev/null 2>&1 || { apt-get update -qq && apt-get download golang-github-containers-common >/dev/null; }; } \
    && dpkg-deb -x ./*.deb x && cp x/usr/share/containers/seccomp.json "$OLDPWD/test-work/containers-seccomp.json") || echo "warning: no engine seccomp profile; that test will skip"
  rm -rf "$tmp"
fi
