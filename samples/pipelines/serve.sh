#!/bin/sh
# Serves live feeds over RTSP (H.264) with `shmframe serve`: every live feed, as
# writers come and go, or only the named ones, at rtsp://ADDRESS:PORT/FEED.
#   serve.sh [FEED...]
# ADDRESS (default 127.0.0.1; 0.0.0.0 to reach other hosts) and PORT (default 8554)
# choose where; SHMFRAME_CLI the shmframe program (default: this build's, else PATH).
# Then, on another host: rtsp-to-feed.sh rtsp://HOST:8554/FEED FEED, or
#   gst-launch-1.0 rtspsrc location=rtsp://HOST:8554/FEED latency=0 ! decodebin \
#     ! videoconvert ! autovideosink
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cli=${SHMFRAME_CLI:-}
if [ -z "$cli" ]; then
    # <build>/samples/pipelines -> <build>/tools/shmframe
    if [ -x "$here/../../tools/shmframe" ]; then
        cli="$here/../../tools/shmframe"
    elif command -v shmframe >/dev/null 2>&1; then
        cli=shmframe
    else
        echo "error: the shmframe program was not found: build it, install it, or set SHMFRAME_CLI." >&2
        exit 1
    fi
fi
exec "$cli" serve --address "${ADDRESS:-127.0.0.1}" --port "${PORT:-8554}" "$@"
