#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Takes the screenshots of docs/viewer.md from the real shmframe-viewer in a real X
# server (Xvfb): the grid of four feeds, the feed picker with its thumbnails, and
# the About box.
#
# usage: scripts/viewer-screenshots.sh [BUILD_DIR] [OUT_DIR]
#        (defaults: build, docs/viewer)
# Needs Xvfb, ImageMagick (import, convert) and python3; keys are sent with the
# XTest extension (libXtst) through python3's ctypes.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/docs/viewer}
mkdir -p "$out"
out=$(cd "$out" && pwd)
viewer=$build/viewer/shmframe-viewer
writer=$build/tests/viewer/viewer_test_writer
for program in "$viewer" "$writer"; do
    [ -x "$program" ] || { echo "missing $program: build first" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/viewer-shots.XXXXXX")
export SHMFRAME_DIR=$work/feeds XDG_CONFIG_HOME=$work/config
mkdir -m 700 "$SHMFRAME_DIR"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

Xvfb -displayfd 3 -screen 0 1000x660x24 -nolisten tcp -br -noreset \
    3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$work/display")"

# Clicks with the left button at each X,Y in turn (XTest; no window manager needed).
click() {  # click X,Y...
    python3 - "$@" <<'PY'
import ctypes, sys, time
x11 = ctypes.CDLL("libX11.so.6")
xtst = ctypes.CDLL("libXtst.so.6")
x11.XOpenDisplay.restype = ctypes.c_void_p
display = ctypes.c_void_p(x11.XOpenDisplay(None))
for point in sys.argv[1:]:
    x, y = (int(v) for v in point.split(","))
    xtst.XTestFakeMotionEvent(display, -1, x, y, 0)
    xtst.XTestFakeButtonEvent(display, 1, True, 0)
    xtst.XTestFakeButtonEvent(display, 1, False, 0)
    x11.XFlush(display)
    time.sleep(1.0)
x11.XCloseDisplay(display)
PY
}

shot() {  # shot NAME WIDTHxHEIGHT
    import -window root -crop "$2+0+0" +repage "$work/$1.png"
    # Small files for the docs: a palette of 256 colours is plenty for a UI.
    convert "$work/$1.png" -colors 256 -strip PNG8:"$out/$1.png"
    echo "$out/$1.png: $(stat -c %s "$out/$1.png") bytes"
}

start_writer() {  # start_writer FEED FORMAT SIZE FPS
    "$writer" --feed "$1" --format "$2" --size "$3" --fps "$4" >"$work/$1.log" 2>&1 &
    pids+=($!)
}
start_writer front NV12 1280x720 30
start_writer side RGBA 640x360 25
start_writer rear GRAY8 640x480 15
start_writer top YUY2 320x240 10
sleep 1

# The grid: four feeds of four sizes and formats in equal cells.
"$viewer" --window-size 1000x640 front side rear top >"$work/grid.log" 2>&1 &
grid=$!
pids+=($grid)
# On a busy machine the first paints take a while: until the shot has the pictures.
for _ in 1 2 3 4 5; do
    sleep 4
    shot viewer-grid 1000x640
    [ "$(stat -c %s "$out/viewer-grid.png")" -gt 10000 ] && break
done
kill -TERM "$grid"
wait "$grid" || true

# The picker with its thumbnails (nothing selected: a fresh settings dir).
XDG_CONFIG_HOME=$work/config-picker "$viewer" --window-size 1000x640 >"$work/picker.log" 2>&1 &
picker=$!
pids+=($picker)
sleep 4
shot viewer-picker 1000x640

# About, from the Help menu (its second item).
click 170,8 ${ABOUT_ITEM:-200,58}
sleep 1
shot viewer-about 1000x640
kill -TERM "$picker"
wait "$picker" || true
