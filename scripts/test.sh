#!/usr/bin/env bash
# README command 2: install the dependencies, build, and run the whole test suite.
#   scripts/test.sh            everything (unit, multi-process, GStreamer, Qt, CLI,
#                              samples, fuzzing, churn, benchmark smoke run)
#   scripts/test.sh -L lib     only a label (ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
# Each test makes its own SHMFRAME_DIR; none needs a display.
unset DISPLAY WAYLAND_DISPLAY
export QT_QPA_PLATFORM=offscreen
ctest --test-dir build --output-on-failure -j 2 --timeout 600 "$@"
