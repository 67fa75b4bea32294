#!/usr/bin/env bash
# Build the container image without any image registry and smoke-test it (run by .ci/run).
#
# 1. A Debian 12 base with python3 from mmdebstrap, cached under $CACHE (rebuilt only when
#    missing), imported into podman.
# 2. The project's wheels built on the host (pip, as for the tests), mounted into the build.
# 3. `podman build --isolation=chroot` (this sandbox has no user namespaces for runc/crun).
# 4. `podman run` is refused here (crun cannot set rlimits), so the image's filesystem is
#    exported and its entrypoint run with chroot as the image's user: `init`, `serve`, then
#    a GET of NodeInfo from outside.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE=${COMMONS_CONTAINER_CACHE:-/var/cache/commons-registry}
BASE=localhost/commons-registry-base:bookworm
IMAGE=localhost/commons-registry:ci
mkdir -p "$CACHE"
work=$(mktemp -d)
ctr=""
cleanup() {
  if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" || true; fi
  [ -n "$ctr" ] && podman rm -f "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

base_tar="$CACHE/debian-bookworm-python3.tar"
if [ ! -s "$base_tar" ]; then
  mmdebstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$CACHE/partial-base.tar"   # the .tar suffix chooses the output format
  mv "$CACHE/partial-base.tar" "$base_tar"
fi
podman image exists "$BASE" || podman import "$base_tar" "$BASE"

rm -rf "$CACHE/wheels" && mkdir -p "$CACHE/wheels"
"${PYTHON:-python3}" -m pip wheel --quiet --wheel-dir "$CACHE/wheels" .

podman build --isolation=chroot --build-arg BASE="$BASE" -v "$CACHE/wheels:/wheels:ro" \
  -f deploy/container/Containerfile -t "$IMAGE" .

ctr=$(podman create "$IMAGE")
mkdir "$work/root"
podman export "$ctr" | tar -x -C "$work/root"
[ -e "$work/root/dev/null" ] || mknod -m 666 "$work/root/dev/null" c 1 3
[ -e "$work/root/dev/urandom" ] || mknod -m 444 "$work/root/dev/urandom" c 1 9
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run() {  # replaces the calling (sub)shell, so that $! of `run … &` is the server itself
  exec chroot --userspec="$user" "$work/root" /usr/bin/env -i \
    PATH=/opt/commons-registry/.venv/bin:/usr/bin:/bin HOME=/var/lib/commons-registry \
    COMMONS_NODE_DATA_DIR=/var/lib/commons-registry COMMONS_SERVER_HOST=127.0.0.1 \
    COMMONS_SERVER_PORT="$port" COMMONS_NODE_BASE_URL="http://127.0.0.1:$port" \
    sh -c 'cd /var/lib/commons-registry && exec "$@"' sh "$@"
}
(run commons-registry init)
run commons-registry serve > "$work/serve.log" 2>&1 &
server=$!
python3 - "$port" <<'PY'
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        index = json.load(urllib.request.urlopen(f"{base}/.well-known/nodeinfo", timeout=2))
        break
    except OSError:
        time.sleep(0.3)
else:
    sys.exit("the image's server did not answer")
info = json.load(urllib.request.urlopen(index["links"][0]["href"], timeout=5))
assert info["software"]["name"] == "commons-registry", info
print(f"smoke: NodeInfo {info['version']} from the image, software {info['software']}")
PY
echo "image $IMAGE: $(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"
