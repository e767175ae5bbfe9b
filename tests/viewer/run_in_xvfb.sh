#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs one command in an Xvfb of its own (Qt on xcb, OpenGL by Mesa's llvmpipe):
# Xvfb picks a free display itself (-displayfd), and is killed by its pid when the
# command ends, whatever happens. The command's exit status is the script's.
#
# usage: run_in_xvfb.sh XVFB COMMAND [ARGS...]
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 XVFB COMMAND [ARGS...]" >&2
    exit 2
fi
xvfb=$1
shift
work=$(mktemp -d "${TMPDIR:-/tmp}/run-in-xvfb.XXXXXX")
xvfb_pid=

cleanup() {
    if [ -n "$xvfb_pid" ]; then
        kill -KILL "$xvfb_pid" 2>/dev/null
        wait "$xvfb_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$xvfb" -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp -br -noreset \
    3>"$work/display" 2>"$work/xvfb.log" &
xvfb_pid=$!
# A deadline for failure, not a measurement.
for ((i = 0; i < 100; i++)); do
    [ -s "$work/display" ] && break
    kill -0 "$xvfb_pid" 2>/dev/null || break
    sleep 0.2
done
if [ ! -s "$work/display" ]; then
    echo "Xvfb did not start:" >&2
    cat "$work/xvfb.log" >&2
    exit 1
fi
export DISPLAY=":$(head -n1 "$work/display")"
export QT_QPA_PLATFORM=xcb
unset WAYLAND_DISPLAY
echo "Xvfb on $DISPLAY (pid $xvfb_pid)"
"$@"
