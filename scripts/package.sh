#!/usr/bin/env bash
# Builds the Debian packages of shmframe with dpkg-buildpackage (debian/): libshmframe0,
# libshmframe-opencv0, libshmframe-qt0, libshmframe-dev, libshmframe-opencv-dev,
# libshmframe-qt-dev, gstreamer1.0-shmframe, shmframe-tools, shmframe-viewer and
# python3-shmframe, each with its -dbgsym package, into $BUILD_DIR
# (default build-deb/), then runs lintian on them when it is installed.
#
# The source is copied into $BUILD_DIR/src first: dpkg-buildpackage writes its results
# next to the source tree, and this keeps them (and the build) out of the checkout.
# Tests are not run in the package build (nocheck); ccache is used when present.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE_DIR=$PWD
BUILD_DIR=${BUILD_DIR:-build-deb}
mkdir -p "$BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

rm -rf "$BUILD_DIR/src"
rm -f "$BUILD_DIR"/*.deb "$BUILD_DIR"/*.ddeb "$BUILD_DIR"/*.changes "$BUILD_DIR"/*.buildinfo
mkdir -p "$BUILD_DIR/src"
if git -C "$SOURCE_DIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and new files, without what .gitignore leaves out (build trees).
    git -C "$SOURCE_DIR" ls-files -z --cached --others --exclude-standard |
        tar -C "$SOURCE_DIR" -c -f - --null --no-recursion --ignore-failed-read -T - |
        tar -x -C "$BUILD_DIR/src"
else
    tar -c -f - --exclude='./build*' --exclude='./obj-*' . | tar -x -C "$BUILD_DIR/src"
fi

export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
if command -v ccache >/dev/null 2>&1; then
    SHMFRAME_CCACHE_DIR=$(ccache -k cache_dir)
    export SHMFRAME_CCACHE_DIR
fi
# One job per core (debhelper builds with ninja -j1 unless told).
(cd "$BUILD_DIR/src" && dpkg-buildpackage -us -uc -b -J"$(nproc)")

ls -1 "$BUILD_DIR"/*.deb
if command -v lintian >/dev/null 2>&1; then
    # Errors fail the build; warnings are printed (docs/packaging.md says which remain).
    lintian --fail-on error "$BUILD_DIR"/*.changes
fi
