#!/bin/sh
# Publishes GStreamer's test pattern on a shmframe feed until Ctrl-C.
#   publish-test-pattern.sh FEED [WIDTHxHEIGHT] [FORMAT] [FPS] [PATTERN]
#   publish-test-pattern.sh cam0 1280x720 RGBA 30 ball
# NUM_BUFFERS=N stops after N frames (sends end of stream).
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 1 ] || shmframe_usage "$0 FEED [WIDTHxHEIGHT] [FORMAT] [FPS] [PATTERN]"
shmframe_find_plugin
feed=$1
size=${2:-1280x720}
format=${3:-RGBA}
fps=${4:-30}
pattern=${5:-smpte}
width=${size%x*}
height=${size#*x}
exec gst-launch-1.0 -e \
    videotestsrc is-live=true pattern="$pattern" num-buffers="${NUM_BUFFERS:--1}" \
    ! "video/x-raw,format=$format,width=$width,height=$height,framerate=$fps/1" \
    ! shmframesink feed="$feed"
