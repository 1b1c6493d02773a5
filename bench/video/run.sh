#!/usr/bin/env bash
# Video benchmark: every strategy on the same machine in one run; prints a Markdown table for docs/benchmarks.md.
#   bench/video/run.sh [BUILD_DIR]   env: SECONDS_CLIP (10), SECONDS_LONG (300; 0 = skip), NEURAL_FRAMES (50), ROUNDS (3)
# The ffmpeg CLI is used here only, as the I/O floor and to rebuild FaceFusion's two frame strategies.
# On a shared machine the load changes from minute to minute, so the short strategies run in ROUNDS interleaved
# rounds (a, b1, b2, c, d, e, then again): the table shows each one's median, and each ratio to (a) is the
# median of the per-round ratios (both runs of a ratio saw about the same load).
set -euo pipefail
build="${1:-build}"
bin="$build/bin"
secs="${SECONDS_CLIP:-10}"
long="${SECONDS_LONG:-300}"
neural_frames="${NEURAL_FRAMES:-50}"
rounds="${ROUNDS:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source_photo=/usr/lib/python3/dist-packages/skimage/data/astronaut.png  # Debian python3-skimage
crf=10 preset=veryfast  # facefleet's defaults: --output-video-quality 80 -> CRF 10, --output-video-preset veryfast

"$bin/facefleet-bench-video" "$work/clip.mp4" "$secs"
frames=$((secs * 25))

# run NAME FRAMES CMD...: wall seconds and peak RSS (KiB, largest process of the command) via GNU time,
# appended to $work/results as "name|frames|wall|rss|round".
round=0
run() {
  local name="$1" n="$2"
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall rss <"$work/time"
  echo "$name|$n|$wall|$rss|$round" >>"$work/results"
  printf '%-48s %6s frames %8.2f s %8.1f fps %8d KiB\n' "$name" "$n" "$wall" "$(echo "$n / $wall" | bc -l)" "$rss" >&2
}
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
enc=(-c:v libx264 -crf "$crf" -preset "$preset" -pix_fmt yuv420p)
swap=("$bin/facefleet" swap --source "$source_photo" --progress none)
clip=(--target "$work/clip.mp4")
"$bin/facefleet-gen-models" --random "$work/models" >/dev/null

for ((round = 1; round <= rounds; round++)); do
  run "a. ffmpeg CLI transcode" "$frames" "${ff[@]}" -i "$work/clip.mp4" "${enc[@]}" -c:a copy "$work/a.mp4"
  run "b1. ffmpeg rawvideo pipe (memory)" "$frames" bash -c "$(printf '%q ' "${ff[@]}") -i $work/clip.mp4 -f rawvideo \
    -pix_fmt bgr24 - | $(printf '%q ' "${ff[@]}") -f rawvideo -pix_fmt bgr24 -s 1280x720 -r 25 -i - -i $work/clip.mp4 \
    -map 0:v -map 1:a? $(printf '%q ' "${enc[@]}") -c:a copy $work/b1.mp4"
  mkdir -p "$work/png"
  run "b2. ffmpeg PNG extract + merge (disk)" "$frames" bash -c "$(printf '%q ' "${ff[@]}") -i $work/clip.mp4 \
    $work/png/%06d.png && $(printf '%q ' "${ff[@]}") -framerate 25 -i $work/png/%06d.png -i $work/clip.mp4 \
    -map 0:v -map 1:a? $(printf '%q ' "${enc[@]}") -c:a copy $work/b2.mp4"
  rm -rf "$work/png"
  run "c. facefleet, no face processing" "$frames" "${swap[@]}" "${clip[@]}" --face-swapper-model none --output "$work/c.mp4"
  run "d. facefleet classic swap" "$frames" "${swap[@]}" "${clip[@]}" --output "$work/d.mp4"
  run "e. facefleet inswapper_128 (random weights)" "$neural_frames" "${swap[@]}" "${clip[@]}" \
    --face-swapper-model inswapper_128 --models-dir "$work/models" --trim-frame-end "$neural_frames" --output "$work/e.mp4"
done

# Peak RSS does not grow with the video's length: a long clip against the short one (transcode path).
# SECONDS_LONG=0 skips it.
round=long
if ((long > 0)); then
  "$bin/facefleet-bench-video" "$work/long.mp4" "$long"
  run "c. facefleet, no face processing, ${long} s" "$((long * 25))" "${swap[@]}" --target "$work/long.mp4" \
    --face-swapper-model none --output "$work/c-long.mp4"
fi

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "| strategy | frames | wall s (median of $rounds) | fps | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
cut -d'|' -f1,2 "$work/results" | awk '!seen[$0]++' | while IFS='|' read -r name n; do
  wall=$(awk -F'|' -v k="$name" '$1 == k {print $3}' "$work/results" | median)
  rss=$(awk -F'|' -v k="$name" '$1 == k {print $4}' "$work/results" | median)
  printf '| %s | %s | %.2f | %.1f | %.0f |\n' "$name" "$n" "$wall" "$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
# ratio X: fps(X) / fps(a) per round (same frame count), then the median over the rounds.
for key in "b1." "b2." "c." "d."; do
  ratio=$(awk -F'|' -v k="$key" '$5 != "long" && index($1, "a. ") == 1 {a[$5] = $3}
    $5 != "long" && index($1, k) == 1 {x[$5] = $3} END {for (r in x) print a[r] / x[r]}' "$work/results" | median)
  runs=$(awk -F'|' -v k="$key" '$5 != "long" && index($1, "a. ") == 1 {a[$5] = $3}
    $5 != "long" && index($1, k) == 1 {x[$5] = $3} END {for (r in x) printf " %.2f", a[r] / x[r]}' "$work/results")
  printf -- '- (%s)/(a) = %.2f (median; rounds:%s)\n' "${key%.}" "$ratio" "$runs"
done
