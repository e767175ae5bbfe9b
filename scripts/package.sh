#!/usr/bin/env bash
# Builds the Debian package of shmframe (library, headers, CMake/pkg-config files,
# GStreamer plugin, CLI, viewer) into build-deb/shmframe_<version>_<arch>.deb.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-deb}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_INSTALL_PREFIX=/usr -DSHMFRAME_BUILD_TESTS=OFF -DSHMFRAME_BUILD_SAMPLES=OFF
cmake --build "$BUILD_DIR" -j "$(nproc)"
(cd "$BUILD_DIR" && cpack -G DEB)
ls "$BUILD_DIR"/*.deb
