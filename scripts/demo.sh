#!/usr/bin/env bash
# The demo: a busybox image built locally (nothing can be downloaded here),
# pushed with skopeo to a private registry on 127.0.0.1, pulled with tsctl
# and run with tsrun; then the same through a plain OCI bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/tsctl/main.js ] || npm run build --silent

data=$(mktemp -d /tmp/tsrun-demo-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$data/registry.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $data/registry } }
http: { addr: 127.0.0.1:$port }
YML
docker-registry serve "$data/registry.yml" >/dev/null 2>&1 &
registry=$!
cleanup() {
  [ -S /run/tsd.sock ] && DOCKER_HOST=unix:///run/tsd.sock docker rm -f demo >/dev/null 2>&1 || true
  kill "$registry" 2>/dev/null || true; ./bin/tsctl --root "$data/tsctl" prune >/dev/null 2>&1 || true; rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== build a busybox image and push it to the local registry 127.0.0.1:$port"
image_tar=$(node test/engines/image.mjs)
mkdir -p "$data/layout" && tar -xf "$image_tar" -C "$data/layout" && rm -f "$image_tar" "${image_tar%.tar}-docker.tar"
skopeo copy --quiet --dest-tls-verify=false --preserve-digests "oci:$data/layout:docker.io/library/busybox:tsrun-test" "docker://127.0.0.1:$port/library/busybox:latest"

# The local registry stands in for Docker Hub (a registry mirror, as dockerd's
# registry-mirrors): `busybox` means docker.io/library/busybox:latest, fetched from it.
tsctl() { ./bin/tsctl --root "$data/tsctl" --mirror "docker.io=127.0.0.1:$port" "$@"; }
echo "== tsctl pull busybox"
tsctl pull busybox
tsctl images
echo "== tsctl run busybox (overlay snapshot + tsrun)"
tsctl run --rm busybox echo hi
tsctl run --rm busybox sh -c 'echo "hello from $(hostname), pid $$ in its own namespaces"; id; ls /'
echo "== tsctl system df"
tsctl system df

# tsd, the Docker Engine API on a unix socket, started in the background as a
# service would be (scripts/tsd-service.sh: /run/tsd.sock, /var/lib/tsrun), and
# the real docker CLI. The daemon keeps running after the demo, with busybox.
echo "== tsd as a service + the docker CLI (DOCKER_HOST=unix:///run/tsd.sock)"
bash scripts/tsd-service.sh start
export DOCKER_HOST=unix:///run/tsd.sock
docker version --format 'docker CLI {{.Client.Version}} -> {{.Server.Os}} engine {{.Server.Version}} (API {{.Server.APIVersion}})'
# The service does not depend on the demo's registry: pull from it by its own name (a
# loopback registry is plain HTTP, as for dockerd) and tag the image as busybox.
docker pull "127.0.0.1:$port/library/busybox:latest"
docker tag "127.0.0.1:$port/library/busybox:latest" busybox:latest
docker rmi "127.0.0.1:$port/library/busybox:latest" >/dev/null
docker rm -f demo >/dev/null 2>&1 || true
docker run --rm busybox echo hi
docker run -d --name demo busybox sh -c 'echo from a background container; sleep 60' >/dev/null
docker ps
sleep 0.5
docker logs demo
docker rm -f demo
echo "== tsd keeps running: export DOCKER_HOST=unix:///run/tsd.sock (stop it with: bash scripts/tsd-service.sh stop)"
