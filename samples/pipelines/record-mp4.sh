#!/bin/sh
# Records a shmframe feed to an H.264 MP4 file, until Ctrl-C or for SECONDS.
#   record-mp4.sh FEED FILE.mp4 [SECONDS]
# FRAMES=N stops after N frames instead (exact, for scripts and tests).
# -e makes Ctrl-C end the stream cleanly, so the MP4 is finished and playable.
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 2 ] || shmframe_usage "$0 FEED FILE.mp4 [SECONDS]"
shmframe_find_plugin
feed=$1
file=$2
seconds=${3:-}
set -- gst-launch-1.0 -e \
    shmframesrc feed="$feed" num-buffers="${FRAMES:--1}" \
    ! videoconvert ! video/x-raw,format=I420 \
    ! x264enc tune=zerolatency speed-preset=veryfast ! h264parse ! mp4mux \
    ! filesink location="$file"
if [ -n "$seconds" ]; then
    # SIGINT, like Ctrl-C, so gst-launch -e sends end of stream and mp4mux finishes the file.
    exec timeout --preserve-status --signal=INT --kill-after=10 "$seconds" "$@"
fi
exec "$@"
