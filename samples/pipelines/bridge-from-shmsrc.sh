#!/bin/sh
# Publishes what a stock GStreamer shmsink serves as a shmframe feed.
#   bridge-from-shmsrc.sh SOCKET_PATH FEED CAPS
#   bridge-from-shmsrc.sh /tmp/legacy.sock cam0 video/x-raw,format=I420,width=640,height=480,framerate=30/1
# shmsink sends no caps, so they are given here, exactly as the shmsink side had them.
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 3 ] || shmframe_usage "$0 SOCKET_PATH FEED CAPS"
shmframe_find_plugin
exec gst-launch-1.0 -e \
    shmsrc socket-path="$1" is-live=true do-timestamp=true ! "$3" \
    ! shmframesink feed="$2"
