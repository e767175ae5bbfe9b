#!/usr/bin/env bash
# Configures and builds shmframe into build/ (warnings are errors).
# Extra arguments go to cmake, e.g. scripts/build.sh -DSHMFRAME_SANITIZE=address
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHMFRAME_WERROR=ON "$@"
cmake --build "$BUILD_DIR" -j "$(nproc)"
