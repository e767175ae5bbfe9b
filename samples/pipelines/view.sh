#!/bin/sh
# Shows a shmframe feed in a window (needs a display).
#   view.sh FEED
set -eu
. "$(dirname "$0")/shmframe-env.sh"
[ $# -ge 1 ] || shmframe_usage "$0 FEED"
shmframe_find_plugin
exec gst-launch-1.0 shmframesrc feed="$1" ! videoconvert ! autovideosink
