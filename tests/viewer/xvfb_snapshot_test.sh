#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The real shmframe-viewer in a real X server: starts Xvfb on a free display, a writer
# of colour bars, and checks that the bars are in the viewer's --snapshot and on the
# X screen itself (ImageMagick `import -window root`), for each painter.
#
# With GTESTS (the viewer's GoogleTest program), its OpenGL rendering cases run in
# the same X server too (the offscreen platform has no OpenGL). With QT_EMBED
# (samples/qt_embed), the shmframe-qt widget in an ordinary Qt application paints
# the feed in an X window too.
#
# usage: xvfb_snapshot_test.sh VIEWER WRITER XVFB IMPORT CONVERT [GTESTS [QT_EMBED]]
set -u
if [ $# -lt 5 ] || [ $# -gt 7 ]; then
    echo "usage: $0 VIEWER WRITER XVFB IMPORT CONVERT [GTESTS [QT_EMBED]]" >&2
    exit 2
fi
viewer=$1 writer=$2 xvfb=$3 import=$4 convert=$5 gtests=${6:-} embed=${7:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/viewer-xvfb.XXXXXX")
export SHMFRAME_DIR=$work/feeds
# The viewer remembers its window and feeds: in this run's directory, not the user's.
export XDG_CONFIG_HOME=$work/config
mkdir -m 700 "$SHMFRAME_DIR"
pids=()

cleanup() {
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for log in "$work"/*.log; do
        [ -s "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
    done
    exit 1
}

# Polls a command (a deadline for failure, not a measurement).
wait_until() {
    local tries=$1
    shift
    for ((i = 0; i < tries; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    return 1
}

bars_in() {  # bars_in IMAGE TOLERANCE LABEL
    "$convert" "$1" -sample '320x256!' txt:- | python3 "$here/check_bars.py" "$2" "$3"
}

# Xvfb chooses a free display itself and writes its number to fd 3.
"$xvfb" -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -br -noreset \
    3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
wait_until 100 test -s "$work/display" || fail "Xvfb did not start"
export DISPLAY=":$(head -n1 "$work/display")"
export QT_QPA_PLATFORM=xcb
unset WAYLAND_DISPLAY
echo "Xvfb on $DISPLAY (pid ${pids[0]})"

start_writer() {  # start_writer FEED FORMAT
    : >"$work/writer-$1.log"
    "$writer" --feed "$1" --format "$2" --size 320x240 --fps 60 \
        >"$work/writer-$1.log" 2>&1 &
    pids+=($!)
    wait_until 50 grep -q ready "$work/writer-$1.log" || fail "writer $1 did not start"
}
start_writer rgba RGBA
start_writer nv12 NV12

check_painter() {  # check_painter PAINTER FEED TOLERANCE
    local painter=$1 feed=$2 tolerance=$3
    local label="$painter/$feed"
    # 1. --snapshot: what the window shows after 5 frames.
    "$viewer" --painter "$painter" --snapshot "$work/snap-$painter-$feed.png" --after-frames 5 \
        --timeout 30 "$feed" >"$work/viewer-snapshot.log" 2>&1 ||
        fail "$label: --snapshot exited with $?"
    [ -s "$work/snap-$painter-$feed.png" ] || fail "$label: no snapshot written"
    bars_in "$work/snap-$painter-$feed.png" "$tolerance" "$label snapshot" ||
        fail "$label: the snapshot lacks the bars"
    if [ "$painter" = opengl ] && grep -q "OpenGL is not available" "$work/viewer-snapshot.log"; then
        echo "NOTE: no OpenGL under this Xvfb; the opengl run fell back to qimage"
    fi

    # 2. The X server's own pixels while the viewer runs.
    "$viewer" --painter "$painter" --window-size 800x600 "$feed" >"$work/viewer.log" 2>&1 &
    local viewer_pid=$!
    pids+=("$viewer_pid")
    local found=1
    for ((i = 0; i < 100; i++)); do
        if "$import" -window root "$work/screen.png" 2>/dev/null &&
            bars_in "$work/screen.png" "$tolerance" "$label screen" 2>/dev/null; then
            found=0
            break
        fi
        kill -0 "$viewer_pid" 2>/dev/null || fail "$label: the viewer exited early"
        sleep 0.2
    done
    kill -KILL "$viewer_pid" 2>/dev/null
    wait "$viewer_pid" 2>/dev/null
    [ $found -eq 0 ] || { bars_in "$work/screen.png" "$tolerance" "$label screen"; fail "$label: the bars never appeared on the X screen"; }
    echo "ok: $label on screen and in --snapshot"
}

check_painter qimage rgba 0
check_painter qimage nv12 6
check_painter opengl rgba 0
check_painter opengl nv12 6

# 3. Every format through the OpenGL painter, pixel-checked by the GoogleTest cases.
if [ -n "$gtests" ]; then
    "$gtests" --gtest_filter='*opengl*:*Opengl*' >"$work/gtest-opengl.log" 2>&1 ||
        fail "the OpenGL rendering cases failed under Xvfb"
    grep -E "PASSED|SKIPPED \]" "$work/gtest-opengl.log" | head -3
fi

# 4. The embedding sample: FeedWidget in a plain QMainWindow, on the X server.
if [ -n "$embed" ]; then
    timeout 60 "$embed" nv12 "$work/embed.png" >"$work/embed.log" 2>&1 ||
        fail "qt_embed exited with $?"
    bars_in "$work/embed.png" 6 "qt_embed on X" || fail "qt_embed did not paint the bars"
    echo "ok: qt_embed shows the feed in an X window"
fi

# 5. SIGTERM: a clean quit, with the statistics written.
"$viewer" --stats-file "$work/stats.json" rgba >"$work/viewer-term.log" 2>&1 &
viewer_pid=$!
pids+=("$viewer_pid")
sleep 1
kill -TERM "$viewer_pid"
wait "$viewer_pid"
status=$?
[ $status -eq 0 ] || fail "SIGTERM: the viewer exited with $status"
grep -q '"frames_painted"' "$work/stats.json" || fail "SIGTERM: no statistics written"
echo "ok: SIGTERM quits cleanly and writes --stats-file"

# 6. A feed that never comes: a message and a non-zero exit, not a hang.
"$viewer" --snapshot "$work/never.png" --timeout 1 nosuchfeed >"$work/never.log" 2>&1
status=$?
[ $status -ne 0 ] || fail "--snapshot of a missing feed exited 0"
grep -q "nosuchfeed" "$work/never.log" || fail "no message naming the missing feed"
[ ! -e "$work/never.png" ] || fail "a snapshot was written for a missing feed"
echo "ok: missing feed -> exit $status with a message"
echo PASS
