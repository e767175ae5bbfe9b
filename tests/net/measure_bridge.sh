#!/bin/sh
# Measures what `shmframe serve` costs per stream on this host (docs/scaling.md):
# CPU of the serve process, the H.264 bit rate, and the latency from a writer's
# publish to the decoded frame at an RTSP client, all on 127.0.0.1.
#   tests/net/measure_bridge.sh BUILD_DIR [SECONDS]
# Each case runs a stamped writer (shmframe_bridge_probe writer), `shmframe serve
# --port 0` and RTSP clients (shmframe_bridge_probe client, RTP over TCP), then
# kills them by pid. CPU is sampled from /proc/PID/stat over the middle of the run.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
build=$(cd "$1" && pwd)
seconds=${2:-20}
cli=$build/tools/shmframe
probe=$build/tests/net/shmframe_bridge_probe
for program in "$cli" "$probe"; do
    [ -x "$program" ] || { echo "error: $program is missing: build shmframe_cli and shmframe_bridge_probe" >&2; exit 1; }
done
ticks=$(getconf CLK_TCK)
pids=""
workdir=""

cleanup() {
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    pids=""
    [ -z "$workdir" ] || rm -rf "$workdir"
    workdir=""
}
trap cleanup EXIT INT TERM

cpu_ticks() {  # utime + stime of a pid (fields 14 and 15; the name in field 2 has no spaces here)
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# run_case NAME SIZE FORMAT PATTERN FEEDS CLIENTS_PER_FEED
run_case() {
    name=$1 size=$2 format=$3 pattern=$4 feeds=$5 clients=$6
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/shmframe-measure.XXXXXX")
    export SHMFRAME_DIR="$workdir/feeds"
    i=0
    while [ "$i" -lt "$feeds" ]; do
        "$probe" writer "feed$i" "$size" 30 "$format" "$pattern" & pids="$pids $!"
        i=$((i + 1))
    done
    sleep 1
    "$cli" serve --port 0 > "$workdir/serve.out" 2> "$workdir/serve.err" & serve=$!
    pids="$pids $serve"
    n=0
    while [ "$(grep -c '^serving ' "$workdir/serve.out" || true)" -lt "$feeds" ] && [ $n -lt 100 ]; do
        sleep 0.1; n=$((n + 1))
    done
    if ! grep -q '^serving ' "$workdir/serve.out" 2>/dev/null; then
        printf '%-32s serve did not serve the feeds: %s\n' "$name" "$(cat "$workdir/serve.err" 2>/dev/null)"
        cleanup
        return
    fi
    i=0
    for url in $(awk '/^serving /{ print $2 }' "$workdir/serve.out"); do
        c=0
        while [ "$c" -lt "$clients" ]; do
            "$probe" client "$url" "$seconds" > "$workdir/client$i.out" 2>/dev/null & pids="$pids $!"
            c=$((c + 1)) i=$((i + 1))
        done
    done
    # Sample serve's CPU over the middle of the clients' measured window.
    sleep 6
    window=$((seconds - 4))
    start=$(cpu_ticks "$serve")
    sleep "$window"
    end=$(cpu_ticks "$serve")
    rss=$(awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$serve/status")
    cpu=$(awk -v a="$start" -v b="$end" -v t="$ticks" -v s="$window" 'BEGIN { printf "%.0f", (b - a) / t / s * 100 }')
    sleep 8
    # CPU per frame serve sent (as the first client received them): the rate can
    # fall short of 30 fps when the host is busy, and the percentage with it.
    fps=$(sed -n 's/.* received_fps=\([0-9.]*\).*/\1/p' "$workdir/client0.out" 2>/dev/null || true)
    per_frame=$(awk -v c="$cpu" -v f="${fps:-0}" 'BEGIN { if (f > 0) printf "%.1f", c * 10 / f; else printf "-" }')
    printf '%-32s serve CPU %4s%% (%s ms/frame) RSS %4s MiB |' "$name" "$cpu" "$per_frame" "$rss"
    for out in "$workdir"/client*.out; do
        [ -e "$out" ] || continue
        printf ' %s |' "$(cat "$out")"
    done
    echo
    cleanup
}

echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "# ${seconds} s per case, x264enc tune=zerolatency speed-preset=ultrafast, default bit rate"
# moving: the CLI's test pattern (bars, a moving box, a counter), easy to encode;
# noise: new random pixels every frame, the worst case (the bit rate cap binds).
run_case "720p30 RGBA moving, no client" 1280x720 RGBA moving 1 0
run_case "720p30 RGBA moving" 1280x720 RGBA moving 1 1
run_case "720p30 I420 moving" 1280x720 I420 moving 1 1
run_case "720p30 RGBA moving, 2 clients" 1280x720 RGBA moving 1 2
run_case "720p30 RGBA noise" 1280x720 RGBA noise 1 1
run_case "1080p30 RGBA moving" 1920x1080 RGBA moving 1 1
run_case "1080p30 I420 moving" 1920x1080 I420 moving 1 1
run_case "1080p30 RGBA noise" 1920x1080 RGBA noise 1 1
run_case "2 x 720p30 RGBA moving" 1280x720 RGBA moving 2 1
