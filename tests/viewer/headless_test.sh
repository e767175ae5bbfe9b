#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Without any display (no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM):
#  - `shmframe-viewer --snapshot` picks the offscreen platform itself and writes the
#    colour bars of a live feed;
#  - samples/qt_embed, the three-line shmframe-qt application, paints a frame of the
#    feed (it saves its window once the first frame is painted), offscreen.
#
# usage: headless_test.sh VIEWER WRITER QT_EMBED CONVERT
set -u
if [ $# -ne 4 ]; then
    echo "usage: $0 VIEWER WRITER QT_EMBED CONVERT" >&2
    exit 2
fi
viewer=$1 writer=$2 embed=$3 convert=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/viewer-headless.XXXXXX")
export SHMFRAME_DIR=$work/feeds
export XDG_CONFIG_HOME=$work/config
mkdir -m 700 "$SHMFRAME_DIR"
unset DISPLAY WAYLAND_DISPLAY QT_QPA_PLATFORM
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

bars_in() {  # bars_in IMAGE TOLERANCE LABEL
    "$convert" "$1" -sample '320x256!' txt:- | python3 "$here/check_bars.py" "$2" "$3"
}

"$writer" --feed bars --format NV12 --size 640x360 --fps 30 >"$work/writer.log" 2>&1 &
pids+=($!)

"$viewer" --snapshot "$work/viewer.png" --after-frames 2 --timeout 30 bars \
    >"$work/viewer.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "shmframe-viewer --snapshot without a display exited $rc"
bars_in "$work/viewer.png" 12 "viewer --snapshot, no display" || fail "no bars in the snapshot"
echo "ok: shmframe-viewer --snapshot without a display"

# An ordinary Qt program: without a display it runs on the offscreen platform.
QT_QPA_PLATFORM=offscreen timeout 30 "$embed" bars "$work/embed.png" >"$work/embed.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "qt_embed exited $rc"
bars_in "$work/embed.png" 12 "qt_embed" || fail "qt_embed did not paint the bars"
echo "ok: qt_embed painted the feed"
