#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The shmframe benchmark suite: every scenario, side by side, in one run.
# Prints a table, writes <out>/results.json and draws PNG plots. Measures and
# reports; it never fails because something was slow.
#
#   tests/bench/run.sh [--quick] [--out DIR] [--build-dir DIR] [--runs N]
#                      [--only REGEX] [--update-doc] [--check]
#
#   --quick        a few hundred frames at 1280x720 only, one run (what CI runs)
#   --out DIR      results.json, records.jsonl and the plots go here
#                  (default: JSON in <build>/bench-results, plots in docs/benchmarks/)
#   --build-dir    the CMake build tree with the bench programs (default:
#                  $SHMFRAME_BUILD_DIR, set by `shmframe bench`)
#   --runs N       repetitions of every scenario (default 3; --quick: 1)
#   --only REGEX   run only the scenarios whose series matches (bash regex), e.g.
#                  '^(api-block|gst-)' for the GStreamer pairs and what they are
#                  compared with; no micro-benchmarks
#   --update-doc   rewrite the generated table in docs/benchmarks.md
#   --check        exit 1 unless results.json holds every scenario (measured, or
#                  skipped with a reason where the scenario needs GStreamer)
#
# Every program runs under `timeout`, and kills the processes it starts by pid.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() { sed -n '4,23p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }

quick=0 out="" build="${SHMFRAME_BUILD_DIR:-}" runs="" update_doc=0 check=0 only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
        --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; build=$2; shift ;;
        --runs)
            [ $# -ge 2 ] || die "--runs needs a number"
            case "$2" in ''|*[!0-9]*) die "--runs must be a whole number from 1 to 20, got '$2'" ;; esac
            [ "$2" -ge 1 ] && [ "$2" -le 20 ] || die "--runs must be from 1 to 20, got '$2'"
            runs=$2; shift ;;
        --only) [ $# -ge 2 ] || die "--only needs a regular expression"; only=$2; shift ;;
        --update-doc) update_doc=1 ;;
        --check) check=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done

# Installed (libexec/shmframe/bench): the programs are next to this script.
installed=0
if [ -z "$build" ] && [ -x "$here/shmframe_bench_api" ]; then
    installed=1
fi
if [ "$installed" = 0 ] && [ -z "$build" ] && [ -n "${SHMFRAME_CLI:-}" ]; then
    build=$(cd "$(dirname "$SHMFRAME_CLI")/.." 2>/dev/null && pwd)
fi
if [ "$installed" = 1 ]; then
    bin="$here"
    [ "$update_doc" = 0 ] || die "--update-doc needs a source tree (run tests/bench/run.sh from it)"
    [ -n "$out" ] || out="$PWD/shmframe-bench-results"
else
    [ -n "$build" ] || die "no build tree: pass --build-dir <build> (or run it as 'shmframe bench')"
    build=$(cd "$build" 2>/dev/null && pwd) || die "build dir '$build' does not exist"
    bin="$build/tests/bench"
fi
for program in shmframe_bench_api shmframe_bench_floor; do
    [ -x "$bin/$program" ] ||
        die "$bin/$program is missing: build the suite with 'cmake --build $build --target shmframe_bench'"
done

if [ -n "$out" ]; then
    mkdir -p "$out" || die "cannot create '$out'"
    out=$(cd "$out" && pwd)
    plots="$out"
else
    out="$build/bench-results"
    mkdir -p "$out" || die "cannot create '$out'"
    plots="$repo/docs/benchmarks"
    mkdir -p "$plots" 2>/dev/null || plots="$out"
fi
records="$out/records.jsonl"
: > "$records"

# Debian's python3 has matplotlib; a python3 earlier on PATH (pyenv, venv) may not.
python=""
for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import matplotlib' >/dev/null 2>&1; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    command -v python3 >/dev/null 2>&1 || die "python3 is needed for the report"
    python=python3
    echo "run.sh: matplotlib not found (apt-get install python3-matplotlib): no plots" >&2
fi

# GStreamer finds our plugin in this build tree, with a registry of its own.
[ "$installed" = 1 ] || export GST_PLUGIN_PATH="$build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_REGISTRY="$out/gst-registry.bin"

if [ "$quick" = 1 ]; then
    sizes="1280x720"
    runs=${runs:-1}
    api_frames=300 wake_frames=300 copy_frames=60 gst_frames=60 gst_warmup=10
    fanout_frames=200 wake_fanout_frames=100 saturate_seconds=1 memcpy_reps=5 nv12_size=""
    fanout_size="1280x720" same_rate_sizes="1280x720"
    h264_sizes="1280x720" gst_readers="1 2 4 8"
else
    sizes="1280x720 1920x1080 3840x2160"
    runs=${runs:-3}
    api_frames=1000 wake_frames=1000 copy_frames=150 gst_frames=120 gst_warmup=15
    fanout_frames=600 wake_fanout_frames=1000 saturate_seconds=2 memcpy_reps=30
    nv12_size="1920x1080" fanout_size="1920x1080" same_rate_sizes="1920x1080 3840x2160"
    h264_sizes="1920x1080 3840x2160" gst_readers="1 2 4 8"
fi
api_fps=200 gst_fps=30 copy_fps=30  # series api-block-30fps runs at gst_fps

# Appends a program's JSON records; a program that fails or prints nothing becomes a
# "skipped" record, so the report always says what happened to each scenario.
scenario() {
    local series=$1 size=$2 limit=$3
    shift 3
    local w=${size%x*} h=${size#*x} output status
    if [ -n "$only" ] && ! [[ $series =~ $only ]]; then
        return 0
    fi
    [ "$size" = "-" ] && w=0 h=0
    printf '  %-18s %-10s run %s\n' "$series" "$size" "$run" >&2
    output=$(timeout -k 5 "$limit" "$@")
    status=$?
    output=$(printf '%s\n' "$output" | grep '^{' || true)
    if [ -n "$output" ]; then
        printf '%s\n' "$output" >> "$records"
    else
        local reason="exited with status $status"
        [ "$status" = 124 ] && reason="timed out after ${limit}s"
        printf '{"series":"%s","group":"%s","format":"%s","width":%s,"height":%s,"run":%s,"skipped":"%s"}\n' \
            "$series" "unknown" "${format:-RGBA}" "$w" "$h" "$run" "$reason" >> "$records"
    fi
}

started=$(date +%s)
{
    echo "{\"meta\": {\"loadavg_start\": \"$(cut -d' ' -f1-3 /proc/loadavg)\","
    echo "\"started\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}"
} | tr -d '\n' > "$out/meta.json"

have_gst=0
if [ -x "$bin/shmframe_bench_gst" ]; then
    # The first start builds the registry; do it once, outside any measurement.
    if check_line=$(timeout -k 5 120 "$bin/shmframe_bench_gst" check 2>/dev/null); then
        have_gst=1
        printf '%s\n' "$check_line" > "$out/gst-check.json"
    fi
fi

# H.264 clips for the decoder scenarios, made once (x264, a few seconds each at 4K);
# a clip that cannot be made leaves its scenarios skipped with the reason.
if [ "$have_gst" = 1 ]; then
    for size in $h264_sizes; do
        clip="$out/clip-$size.mp4"
        [ -s "$clip" ] && continue
        echo "  making an H.264 clip, $size" >&2
        timeout -k 5 600 "$bin/shmframe_bench_gst" clip --width "${size%x*}" \
            --height "${size#*x}" --fps "$gst_fps" \
            --frames $((gst_warmup + gst_frames + 2 * gst_fps)) --out "$clip" >/dev/null ||
            echo "run.sh: could not make $clip" >&2
    done
fi

echo "shmframe benchmarks: $runs run(s), sizes $sizes, results in $out" >&2
for run in $(seq 1 "$runs"); do
    format=RGBA
    # Floors that do not depend on the frame size.
    for kind in futex eventfd eventfd-epoll pipe-epoll spin; do
        scenario "floor-$kind" - 60 "$bin/shmframe_bench_floor" wake --kind "$kind" \
            --fps "$api_fps" --frames "$wake_frames" --warmup 50 --run "$run"
    done
    # One FUTEX_WAKE of N sleeping processes: the kernel's own cost of waking N
    # sleepers, the floor of fan-out (N=1 is floor-futex above).
    for waiters in 2 4 8; do
        scenario "floor-futex-$waiters" - 60 "$bin/shmframe_bench_floor" wake --kind futex \
            --waiters "$waiters" --fps "$api_fps" --frames "$wake_fanout_frames" --warmup 50 \
            --run "$run"
    done
    for size in $sizes; do
        w=${size%x*} h=${size#*x}
        for wait in block spin paced; do
            scenario "api-$wait" "$size" 90 "$bin/shmframe_bench_api" latency --wait "$wait" \
                --width "$w" --height "$h" --fps "$api_fps" --frames "$api_frames" \
                --warmup 50 --run "$run"
        done
        # Blocking at the GStreamer pairs' rate and frame count (gst_fps is 30), which
        # the pair's latency target compares with: on a VM the wake-up latency depends
        # on the idle gap between frames.
        if [[ " $same_rate_sizes " == *" $size "* ]]; then
            scenario api-block-30fps "$size" 90 "$bin/shmframe_bench_api" latency \
                --series api-block-30fps --group latency --wait block --width "$w" \
                --height "$h" --fps "$gst_fps" --frames "$gst_frames" --warmup "$gst_warmup" \
                --run "$run"
        fi
        scenario memcpy "$size" 60 "$bin/shmframe_bench_floor" memcpy --width "$w" \
            --height "$h" --reps "$memcpy_reps" --run "$run"
        scenario unix-socket "$size" 120 "$bin/shmframe_bench_floor" unix-copy --width "$w" \
            --height "$h" --fps "$copy_fps" --frames "$copy_frames" --warmup 10 --run "$run"
        if [ "$have_gst" = 1 ]; then
            scenario gst-queue "$size" 90 "$bin/shmframe_bench_gst" queue --width "$w" \
                --height "$h" --fps "$gst_fps" --frames "$gst_frames" --warmup "$gst_warmup" \
                --run "$run"
            for transport in shmframe shm tcp; do
                scenario "gst-$transport" "$size" 120 "$bin/shmframe_bench_gst" pair \
                    --transport "$transport" --width "$w" --height "$h" --fps "$gst_fps" \
                    --frames "$gst_frames" --warmup "$gst_warmup" --run "$run"
            done
        fi
        scenario saturation "$size" 60 "$bin/shmframe_bench_api" saturate --width "$w" \
            --height "$h" --seconds "$saturate_seconds" --run "$run"
    done
    if [ -n "$nv12_size" ]; then
        format=NV12
        w=${nv12_size%x*} h=${nv12_size#*x}
        for wait in block spin paced; do
            scenario "api-$wait" "$nv12_size" 90 "$bin/shmframe_bench_api" latency --format NV12 \
                --wait "$wait" --width "$w" --height "$h" --fps "$api_fps" \
                --frames "$api_frames" --warmup 50 --run "$run"
        done
        if [ "$have_gst" = 1 ]; then
            for transport in shmframe shm; do
                scenario "gst-$transport" "$nv12_size" 120 "$bin/shmframe_bench_gst" pair \
                    --format NV12 --transport "$transport" --width "$w" --height "$h" \
                    --fps "$gst_fps" --frames "$gst_frames" --warmup "$gst_warmup" --run "$run"
            done
        fi
        format=RGBA
    fi
    if [ "$have_gst" = 1 ]; then
        # A decoder upstream (stock shmsink must copy its frames), then several
        # GStreamer receivers of one sink.
        format=I420
        for size in $h264_sizes; do
            for transport in shmframe shm; do
                scenario "gst-h264-$transport" "$size" 150 "$bin/shmframe_bench_gst" pair \
                    --source h264 --clip "$out/clip-$size.mp4" --format I420 \
                    --transport "$transport" --width "${size%x*}" --height "${size#*x}" \
                    --fps "$gst_fps" --frames "$gst_frames" --warmup "$gst_warmup" \
                    --series "gst-h264-$transport" --run "$run"
            done
        done
        format=RGBA
        for readers in $gst_readers; do
            for transport in shmframe shm; do
                scenario "gst-readers-$readers-$transport" "$fanout_size" 150 \
                    "$bin/shmframe_bench_gst" pair --transport "$transport" \
                    --readers "$readers" --width "${fanout_size%x*}" \
                    --height "${fanout_size#*x}" --fps "$gst_fps" --frames "$gst_frames" \
                    --warmup "$gst_warmup" --series "gst-readers-$readers-$transport" \
                    --run "$run"
            done
        done
    fi
    w=${fanout_size%x*} h=${fanout_size#*x}
    for readers in 1 2 4 8; do
        scenario "fanout-$readers" "$fanout_size" 90 "$bin/shmframe_bench_api" latency \
            --series "fanout-$readers" --group fanout --readers "$readers" --wait block \
            --width "$w" --height "$h" --fps "$api_fps" --frames "$fanout_frames" --warmup 50 \
            --run "$run"
    done
done

if [ "$have_gst" = 0 ]; then
    run=1
    reason="GStreamer benchmark program missing or GStreamer does not start"
    for series in gst-queue gst-shmframe gst-shm gst-tcp gst-h264-shmframe gst-h264-shm \
        $(for n in 1 2 4 8; do echo "gst-readers-$n-shmframe gst-readers-$n-shm"; done); do
        for size in $sizes; do
            printf '{"series":"%s","group":"gst","format":"RGBA","width":%s,"height":%s,"run":1,"skipped":"%s"}\n' \
                "$series" "${size%x*}" "${size#*x}" "$reason" >> "$records"
        done
    done
fi

# Micro-benchmarks of single calls (CPU cost without wake-ups).
if [ -x "$bin/shmframe_bench_micro" ] && [ -z "$only" ]; then
    echo "  micro-benchmarks" >&2
    min_time=0.3
    [ "$quick" = 1 ] && min_time=0.02
    timeout -k 5 300 "$bin/shmframe_bench_micro" --benchmark_min_time="$min_time" \
        --benchmark_out="$out/micro.json" --benchmark_out_format=json >/dev/null 2>&1 ||
        echo "run.sh: micro-benchmarks failed" >&2
fi

elapsed=$(( $(date +%s) - started ))
command_line="tests/bench/run.sh"
[ "$quick" = 1 ] && command_line="$command_line --quick"
[ "$runs" != 3 ] && [ "$quick" = 0 ] && command_line="$command_line --runs $runs"
[ -n "$only" ] && command_line="$command_line --only '$only'"

report_args=(--records "$records" --out "$out" --plots "$plots" --runs "$runs"
    --elapsed "$elapsed" --command "$command_line" --meta "$out/meta.json")
[ "$quick" = 1 ] && report_args+=(--quick)
[ -f "$out/micro.json" ] && report_args+=(--micro "$out/micro.json")
[ -f "$out/gst-check.json" ] && report_args+=(--gst-check "$out/gst-check.json")
[ "$update_doc" = 1 ] && report_args+=(--update-doc "$repo/docs/benchmarks.md")
[ "$check" = 1 ] && report_args+=(--check)
exec "$python" "$here/report.py" "${report_args[@]}"
