#!/bin/sh
# Publishes an RTSP stream (another host's `shmframe serve`, an IP camera) as a
# local feed, decoded to raw video, for the readers of this host.
#   rtsp-to-feed.sh URL FEED
#   rtsp-to-feed.sh rtsp://camhost:8554/cam0 camhost-cam0
# PROTOCOLS=tcp carries RTP inside the RTSP connection (one TCP port through a
# firewall); by default rtspsrc tries UDP first. LATENCY is the jitter buffer in ms
# (default 0: frames go out as they come; raise it on a lossy network).
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 2 ] || shmframe_usage "$0 URL FEED"
shmframe_find_plugin
# sync=false: publish each frame as soon as it is decoded; the readers pace themselves.
# shellcheck disable=SC2086 # the protocols option is one word or nothing
exec gst-launch-1.0 -e \
    rtspsrc location="$1" latency="${LATENCY:-0}" ${PROTOCOLS:+protocols=$PROTOCOLS} \
    ! decodebin ! videoconvert ! shmframesink feed="$2" sync=false
