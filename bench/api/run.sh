#!/usr/bin/env bash
# API benchmark for `facefleet serve` (issue #5 goals), load generators on the same machine:
#   1. GET /v1/jobs/{id}: wrk and hey, 32 connections, 15 s           goal >= 20,000 req/s, p99 <= 5 ms
#   2. POST /v1/jobs (small photo as source and target), 16 conns    goal >= 1,000 durable submissions/s
#      (API-only tier: --workers 0, so the queue grows and nothing competes for the CPU)
#   3. dispatch latency over 50 sequential no-op jobs, idle worker   goal p99 <= 5 ms (submit -> running)
#   4. peak memory (VmHWM) of the server around a 1 GiB upload        goal: flat
# Usage: bench/api/run.sh [seconds=15]   (needs build/bin/facefleet, wrk, hey, jq, curl; prints a summary)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="$root/build/bin/facefleet"
seconds="${1:-15}"
work="$(mktemp -d /tmp/facefleet-bench-api.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
for tool in wrk hey jq curl; do command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps)"; exit 1; }; done
[[ -x "$bin" ]] || { echo "build first: make build"; exit 1; }

# start_server NAME FLAGS... -> sets port, key, pid
start_server() {
  local name="$1"; shift
  "$bin" serve --data-dir "$work/$name" --port 0 --rate-limit 0 --max-active-jobs 1000000 "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  for _ in $(seq 600); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
  port="$(grep -o 'listening on http://[^ ]*' "$work/$name.out" | sed 's/.*://')"
  key="$(grep -m1 '^ff_' "$work/$name.out")"
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
}

# A small photo (the Grace Hopper sample, public domain, scaled to 96 px wide) as source and target.
photo="$work/small.jpg"
/usr/bin/python3 -c "from PIL import Image; im=Image.open('/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg'); im.thumbnail((96,96)); im.save('$photo', quality=85)"
boundary="facefleetbench"
{
  printf -- '--%s\r\nContent-Disposition: form-data; name="source"; filename="s.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' "$boundary"
  cat "$photo"
  printf -- '\r\n--%s\r\nContent-Disposition: form-data; name="target"; filename="t.jpg"\r\nContent-Type: image/jpeg\r\n\r\n' "$boundary"
  cat "$photo"
  printf -- '\r\n--%s\r\nContent-Disposition: form-data; name="options"\r\n\r\n{"face_swapper_model":"none"}\r\n--%s--\r\n' "$boundary" "$boundary"
} >"$work/body.bin"

echo "# facefleet API benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# 1. Status reads.
start_server status --workers 1
id="$(curl -s -H "Authorization: Bearer $key" -F source=@"$photo" -F target=@"$photo" \
      -F 'options={"face_swapper_model":"none"}' "http://127.0.0.1:$port/v1/jobs" | jq -r .id)"
sleep 1
url="http://127.0.0.1:$port/v1/jobs/$id"
wrk -t2 -c32 -d"${seconds}s" --latency -H "Authorization: Bearer $key" "$url" >"$work/wrk.txt"
hey -z "${seconds}s" -c 32 -H "Authorization: Bearer $key" "$url" >"$work/hey.txt"
echo "status  wrk: $(grep 'Requests/sec' "$work/wrk.txt" | awk '{print $2}') req/s, p50 $(grep ' 50%' "$work/wrk.txt" | awk '{print $2}'), p99 $(grep ' 99%' "$work/wrk.txt" | awk '{print $2}'), non-2xx: $(grep -c 'Non-2xx' "$work/wrk.txt" || true)"
echo "status  hey: $(grep 'Requests/sec' "$work/hey.txt" | awk '{print $2}') req/s, p50 $(grep ' 50% in' "$work/hey.txt" | awk '{print $3*1000 " ms"}'), p99 $(grep ' 99% in' "$work/hey.txt" | awk '{print $3*1000 " ms"}'), codes: $(grep -A3 'Status code distribution' "$work/hey.txt" | tail -n +2 | xargs)"
kill -TERM "$pid"; wait "$pid" || true

# 2. Durable submissions (API-only tier).
start_server submit --workers 0
hey -z "${seconds}s" -c 16 -m POST -T "multipart/form-data; boundary=$boundary" -D "$work/body.bin" \
    -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/jobs" >"$work/hey-post.txt"
committed="$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^facefleet_jobs\{status="queued"\}/ {print $2}')"
echo "submit  hey: $(grep 'Requests/sec' "$work/hey-post.txt" | awk '{print $2}') req/s, p50 $(grep ' 50% in' "$work/hey-post.txt" | awk '{print $3*1000 " ms"}'), p99 $(grep ' 99% in' "$work/hey-post.txt" | awk '{print $3*1000 " ms"}'), codes: $(grep -A3 'Status code distribution' "$work/hey-post.txt" | tail -n +2 | xargs), jobs committed: $committed"
kill -TERM "$pid"; wait "$pid" || true

# 3. Dispatch latency: 50 sequential no-op jobs (face_swapper_model none), one idle worker; server timestamps.
start_server dispatch --workers 1
for _ in $(seq 50); do
  id="$(curl -s -H "Authorization: Bearer $key" -F source=@"$photo" -F target=@"$photo" \
        -F 'options={"face_swapper_model":"none"}' "http://127.0.0.1:$port/v1/jobs" | jq -r .id)"
  for _ in $(seq 500); do
    job="$(curl -s -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/jobs/$id")"
    [[ "$(jq -r .status <<<"$job")" == succeeded ]] && break
    sleep 0.01
  done
  jq -c '{c: .created_at, s: .started_at, f: .finished_at}' <<<"$job" >>"$work/dispatch.jsonl"
done
/usr/bin/python3 - "$work/dispatch.jsonl" <<'PY'
import json, sys
from datetime import datetime
def t(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
rows = [json.loads(l) for l in open(sys.argv[1])]
run = sorted(t(r["s"]) - t(r["c"]) for r in rows)
done = sorted(t(r["f"]) - t(r["c"]) for r in rows)
p = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))]
print(f"dispatch (server clock, ms resolution, n={len(rows)}): submit->running p50 {p(run,.5):.0f} ms p99 {p(run,.99):.0f} ms; "
      f"submit->succeeded p50 {p(done,.5):.0f} ms p99 {p(done,.99):.0f} ms")
PY
hwm_before="$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
kill -TERM "$pid"; wait "$pid" || true

# 4. Memory during a 1 GiB upload (a zero-filled target: streamed to storage, then refused as 415).
start_server upload --workers 0 --max-upload-bytes 2000000000
truncate -s 1G "$work/big.bin"
hwm_before="$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" -F source=@"$photo" \
       -F target=@"$work/big.bin" "http://127.0.0.1:$port/v1/jobs")"
hwm_after="$(awk '/VmHWM/ {print $2}' /proc/$pid/status)"
echo "upload  1 GiB: HTTP $code, server peak RSS $((hwm_before / 1024)) MiB before -> $((hwm_after / 1024)) MiB after"
kill -TERM "$pid"; wait "$pid" || true
