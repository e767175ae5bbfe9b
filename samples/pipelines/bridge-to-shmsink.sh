#!/bin/sh
# Serves a shmframe feed to programs that read GStreamer's stock shmsrc.
#   bridge-to-shmsink.sh FEED SOCKET_PATH
# Then, elsewhere (caps as `shmframe info FEED` prints them):
#   gst-launch-1.0 shmsrc socket-path=SOCKET_PATH is-live=true \
#     ! video/x-raw,format=RGBA,width=1280,height=720,framerate=30/1 ! videoconvert ! autovideosink
# SHM_SIZE (bytes, default 128 MiB) must hold a few frames.
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 2 ] || shmframe_usage "$0 FEED SOCKET_PATH"
shmframe_find_plugin
exec gst-launch-1.0 -e \
    shmframesrc feed="$1" ! queue \
    ! shmsink socket-path="$2" shm-size="${SHM_SIZE:-134217728}" wait-for-connection=false sync=false
