#!/usr/bin/env bash
# README command 1: install the dependencies, build, and run the main job — a live
# test pattern published into a feed and shown: in the Qt viewer when a display
# exists, otherwise by the CLI reading the feed (live stats) and saving a PNG.
#   scripts/demo.sh [FEED]       (default feed: demo)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

FEED=${1:-demo}
BIN=build/tools/shmframe
export GST_PLUGIN_PATH="$PWD/build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

"$BIN" publish "$FEED" --pattern moving --size 1280x720 --fps 30 &
PUBLISHER=$!
trap 'kill "$PUBLISHER" 2>/dev/null || true; wait "$PUBLISHER" 2>/dev/null || true' EXIT

# Wait (at most 10 s) for the feed to appear.
for _ in $(seq 100); do
    "$BIN" info "$FEED" >/dev/null 2>&1 && break
    sleep 0.1
done

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x build/viewer/shmframe-viewer ]; then
    echo "demo: showing feed '$FEED' in the viewer (close the window to stop)"
    build/viewer/shmframe-viewer --overlay "$FEED"
else
    echo "demo: no display; reading feed '$FEED' with the CLI"
    "$BIN" info "$FEED"
    "$BIN" stats "$FEED" --once
    sleep 2
    "$BIN" stats "$FEED" --once
    "$BIN" snapshot "$FEED" "$FEED-snapshot.png"
    echo "demo: wrote $PWD/$FEED-snapshot.png (a frame of the live feed)"
fi
