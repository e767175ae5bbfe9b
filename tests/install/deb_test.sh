#!/usr/bin/env bash
# Builds the .deb, installs it with dpkg, checks GStreamer finds the plugin without
# GST_PLUGIN_PATH and the CLI runs, then removes it and checks nothing is left.
# It changes the system's packages, so it runs only when asked (SHMFRAME_TEST_DEB=1,
# which CI sets) and as root; otherwise it says so and counts as skipped.
#   deb_test.sh SOURCE_DIR
set -euo pipefail
SOURCE_DIR=$1
if [ "${SHMFRAME_TEST_DEB:-0}" != 1 ] || [ "$(id -u)" -ne 0 ]; then
    echo "skipped: set SHMFRAME_TEST_DEB=1 and run as root to install the .deb for real"
    exit 77
fi
if dpkg-query -W shmframe >/dev/null 2>&1; then
    echo "skipped: a shmframe package is already installed on this machine"
    exit 77
fi
WORK=$(mktemp -d)
trap 'dpkg -r shmframe >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
BUILD_DIR="$WORK/build-deb" "$SOURCE_DIR/scripts/package.sh" > "$WORK/package.log" 2>&1 ||
    { tail -30 "$WORK/package.log"; exit 1; }
deb=$(ls "$WORK"/build-deb/shmframe_*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg -i "$deb"
unset GST_PLUGIN_PATH
export GST_REGISTRY="$WORK/registry.bin"
gst-inspect-1.0 shmframesink | grep -q "feed"
gst-inspect-1.0 shmframesrc | grep -q "feed"
shmframe --version
test -f /usr/share/applications/shmframe-viewer.desktop
pkg-config --modversion shmframe
installed_files=$(dpkg-query -L shmframe | while read -r f; do [ -f "$f" ] && echo "$f"; done)
dpkg -r shmframe
for f in $installed_files; do
    if [ -e "$f" ]; then
        echo "FAIL: $f is still there after dpkg -r"
        exit 1
    fi
done
if gst-inspect-1.0 shmframesink >/dev/null 2>&1; then
    echo "FAIL: GStreamer still finds shmframesink after dpkg -r"
    exit 1
fi
echo "removed cleanly: $(echo "$installed_files" | wc -l) files gone"
echo "1 passed, 0 failed"
