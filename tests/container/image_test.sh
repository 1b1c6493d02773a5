#!/usr/bin/env bash
# ctest label `container`: builds the CPU image (scripts/image: debootstrap base + buildah, the real
# deploy/docker/Dockerfile) and checks it from the inside with `buildah run --isolation chroot`:
#   - image config: non-root USER, exec-form ENTRYPOINT `facefleet`, HEALTHCHECK `facefleet health`, OCI labels
#   - `facefleet --version` runs (every shared library the binary needs is in the runtime stage)
#   - the process runs as uid 10001, not root
#   - a classic swap of the two sample photos (mounted read-only) gives the same picture as the host build
#   - `facefleet serve` starts inside, and the HEALTHCHECK command reports it healthy, then unavailable (exit 13)
#   - nothing is written outside /tmp, /data and /models (the image works with a read-only root filesystem)
# and prints the image size. Usage: image_test.sh HOST_FACEFLEET GRACE_JPG ASTRONAUT_PNG
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
host_bin="$1" grace="$2" astronaut="$3"
if [[ $(id -u) != 0 ]]; then
  echo "SKIP: buildah's chroot isolation needs root here"
  exit 77
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
image="$("$root/scripts/image")"
work="$(mktemp -d)"
ctr="$(buildah from --quiet --pull-never "$image")"
serve_pid=""
cleanup() {
  [[ -n "$serve_pid" ]] && kill "$serve_pid" 2>/dev/null || true
  buildah umount "$ctr" >/dev/null 2>&1 || true
  buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
run() { buildah run --isolation chroot "$@"; }

# Image configuration (docker format keeps HEALTHCHECK).
podman image inspect "$image" >"$work/inspect.json"
/usr/bin/python3 - "$work/inspect.json" <<'PY' || fail "image configuration"
import json, sys
image = json.load(open(sys.argv[1]))[0]
config = image["Config"]
problems = []
def expect(what, got, want):
    if got != want: problems.append(f"{what}: got {got!r}, want {want!r}")
expect("User", config.get("User"), "10001:10001")
expect("Entrypoint", config.get("Entrypoint"), ["facefleet"])
expect("Healthcheck", (image.get("Healthcheck") or config.get("Healthcheck") or {}).get("Test"),
       ["CMD", "facefleet", "health"])
labels = config.get("Labels") or {}
for key in ("title", "version", "revision", "licenses", "source", "description"):
    if not labels.get("org.opencontainers.image." + key): problems.append(f"label org.opencontainers.image.{key} missing")
for volume in ("/data", "/models"):
    if volume not in (config.get("Volumes") or {}): problems.append(f"VOLUME {volume} missing")
print("\n".join(problems) if problems else "image config ok")
sys.exit(1 if problems else 0)
PY

# Everything the run steps write must land in /tmp, /data or /models: mark the time, check at the end.
mnt="$(buildah mount "$ctr")"
run "$ctr" -- true
touch "$work/marker"
sleep 1

version="$(run "$ctr" -- facefleet --version)"
grep -q '^facefleet [0-9]' <<<"$version" || fail "facefleet --version printed: $version"
echo "$version" | head -1
uid="$(run "$ctr" -- id -u)"
[[ "$uid" == 10001 ]] || fail "runs as uid $uid, want 10001"

# Classic swap on the sample photos (public domain: US Navy / NASA), output to a mounted directory.
mkdir -p "$work/samples" "$work/out"
cp "$grace" "$work/samples/grace.jpg" && cp "$astronaut" "$work/samples/astronaut.png"
chmod 0777 "$work/out"
run -v "$work/samples:/samples:ro" -v "$work/out:/out" "$ctr" -- facefleet swap --quiet \
  --source /samples/grace.jpg --target /samples/astronaut.png --output /out/result.jpg ||
  fail "classic swap inside the image"
"$host_bin" swap --quiet --source "$grace" --target "$astronaut" --output "$work/host.jpg"
/usr/bin/python3 - "$work/out/result.jpg" "$work/host.jpg" "$astronaut" <<'PY' || fail "swap result"
import sys
from PIL import Image, ImageChops, ImageStat
inside, host, target = (Image.open(p).convert("RGB") for p in sys.argv[1:])
assert inside.size == target.size, f"size {inside.size} != target {target.size}"
vs_host = sum(ImageStat.Stat(ImageChops.difference(inside, host)).mean) / 3
vs_target = sum(ImageStat.Stat(ImageChops.difference(inside, target)).mean) / 3
print(f"mean abs difference: vs host build {vs_host:.2f}, vs target {vs_target:.2f}")
assert vs_host < 1.0, "the image's swap differs from the host build's"
assert vs_target > vs_host, "the image's output looks like the unswapped target"
PY

# serve inside the image; `facefleet health` (the HEALTHCHECK) must see it, then see it gone.
port=$((20000 + RANDOM % 20000))
run "$ctr" -- facefleet serve --port "$port" --data-dir /tmp/ff-data \
  >"$work/serve.log" 2>&1 &
serve_pid=$!
healthy=0
for _ in $(seq 1 120); do
  if run "$ctr" -- facefleet health --port "$port" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
((healthy)) || { cat "$work/serve.log" >&2; fail "facefleet health never saw serve on port $port"; }
echo "facefleet health: serve on port $port is healthy"
pkill -TERM -f "facefleet serve --port $port" || true
wait "$serve_pid" || true
serve_pid=""
set +e
run "$ctr" -- facefleet health --port "$port" >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 13 ]] || fail "facefleet health against a stopped server exited $rc, want 13 (unavailable)"

written="$(cd "$mnt" && find . -xdev -newer "$work/marker" \
  ! -path ./tmp ! -path './tmp/*' ! -path ./data ! -path './data/*' ! -path ./models ! -path './models/*' \
  ! -path ./samples ! -path ./out ! -type d -print)"
[[ -z "$written" ]] || fail "written outside /tmp, /data and /models (breaks a read-only root filesystem): $written"
echo "read-only root: nothing written outside /tmp, /data, /models"

size="$(podman image inspect --format '{{.Size}}' "$image")"
echo "image size: $((size / 1024 / 1024)) MiB"
((size < 1536 * 1024 * 1024)) || fail "image is $((size / 1024 / 1024)) MiB, over the 1.5 GiB budget"
echo "container image ok"
