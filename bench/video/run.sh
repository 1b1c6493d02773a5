#!/usr/bin/env bash
# Video benchmark: every strategy on the same machine in one run; prints a Markdown table for docs/benchmarks.md.
#   bench/video/run.sh [BUILD_DIR]      env: SECONDS_CLIP (10), SECONDS_LONG (300), NEURAL_FRAMES (50)
# The ffmpeg CLI is used here only, as the I/O floor and to rebuild FaceFusion's two frame strategies.
set -euo pipefail
build="${1:-build}"
bin="$build/bin"
secs="${SECONDS_CLIP:-10}"
long="${SECONDS_LONG:-300}"
neural_frames="${NEURAL_FRAMES:-50}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source_photo=/usr/lib/python3/dist-packages/skimage/data/astronaut.png  # Debian python3-skimage
crf=10 preset=veryfast  # facefleet's defaults: --output-video-quality 80 -> CRF 10, --output-video-preset veryfast

"$bin/facefleet-bench-video" "$work/clip.mp4" "$secs"
frames=$((secs * 25))

# run NAME FRAMES CMD...: wall seconds and peak RSS (KiB, largest process of the command) via GNU time.
results=()
run() {
  local name="$1" n="$2"
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall rss <"$work/time"
  results+=("$name|$n|$wall|$rss")
  printf '%-40s %6s frames %8.2f s %8.1f fps %8d KiB\n' "$name" "$n" "$wall" "$(echo "$n / $wall" | bc -l)" "$rss" >&2
}
ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
enc=(-c:v libx264 -crf "$crf" -preset "$preset" -pix_fmt yuv420p)

run "a. ffmpeg CLI transcode" "$frames" "${ff[@]}" -i "$work/clip.mp4" "${enc[@]}" -c:a copy "$work/a.mp4"
run "b1. ffmpeg rawvideo pipe (memory)" "$frames" bash -c "$(printf '%q ' "${ff[@]}") -i $work/clip.mp4 -f rawvideo \
  -pix_fmt bgr24 - | $(printf '%q ' "${ff[@]}") -f rawvideo -pix_fmt bgr24 -s 1280x720 -r 25 -i - -i $work/clip.mp4 \
  -map 0:v -map 1:a? $(printf '%q ' "${enc[@]}") -c:a copy $work/b1.mp4"
mkdir -p "$work/png"
run "b2. ffmpeg PNG extract + merge (disk)" "$frames" bash -c "$(printf '%q ' "${ff[@]}") -i $work/clip.mp4 \
  $work/png/%06d.png && $(printf '%q ' "${ff[@]}") -framerate 25 -i $work/png/%06d.png -i $work/clip.mp4 \
  -map 0:v -map 1:a? $(printf '%q ' "${enc[@]}") -c:a copy $work/b2.mp4"
rm -rf "$work/png"
swap=("$bin/facefleet" swap --source "$source_photo" --progress none)
clip=(--target "$work/clip.mp4")
run "c. facefleet, no face processing" "$frames" "${swap[@]}" "${clip[@]}" --face-swapper-model none --output "$work/c.mp4"
run "d. facefleet classic swap" "$frames" "${swap[@]}" "${clip[@]}" --output "$work/d.mp4"
"$bin/facefleet-gen-models" --random "$work/models" >/dev/null
run "e. facefleet inswapper_128 (random weights)" "$neural_frames" "${swap[@]}" "${clip[@]}" --face-swapper-model inswapper_128 \
  --models-dir "$work/models" --trim-frame-end "$neural_frames" --output "$work/e.mp4"

# Peak RSS does not grow with the video's length: a long clip against the short one (transcode path).
"$bin/facefleet-bench-video" "$work/long.mp4" "$long"
run "c. facefleet, no face processing, ${long} s" "$((long * 25))" "${swap[@]}" --target "$work/long.mp4" \
  --face-swapper-model none --output "$work/c-long.mp4"

echo "| strategy | frames | wall s | fps | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
for r in "${results[@]}"; do
  IFS='|' read -r name n wall rss <<<"$r"
  printf '| %s | %s | %.2f | %.1f | %.0f |\n' "$name" "$n" "$wall" "$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
