#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs a small consumer
# project against it with CMake (find_package) and with pkg-config.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR=$1
SOURCE_DIR=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export SHMFRAME_DIR="$WORK/feeds"

cmake --install "$BUILD_DIR" --prefix "$WORK/prefix" > "$WORK/install.log"
LIBDIR=$(cd "$WORK/prefix" && dirname "$(find . -name 'libshmframe.so' | head -1)")
test -f "$WORK/prefix/include/shmframe/shmframe.h"
test -f "$WORK/prefix/include/shmframe/version.h"
test -f "$WORK/prefix/$LIBDIR/pkgconfig/shmframe.pc"
test -f "$WORK/prefix/$LIBDIR/cmake/shmframe/shmframeConfig.cmake"
soname=$(objdump -p "$WORK/prefix/$LIBDIR/libshmframe.so" | awk '/SONAME/ {print $2}')
echo "installed libshmframe with SONAME $soname"
[[ $soname == libshmframe.so.* ]]
export LD_LIBRARY_PATH="$WORK/prefix/$LIBDIR"

# CMake consumer.
cmake -S "$SOURCE_DIR/tests/install/consumer" -B "$WORK/consumer" -G Ninja \
      -DCMAKE_PREFIX_PATH="$WORK/prefix" > "$WORK/configure.log"
cmake --build "$WORK/consumer" > "$WORK/build.log"
"$WORK/consumer/consumer"
if [ -x "$WORK/consumer/consumer_opencv" ]; then
    "$WORK/consumer/consumer_opencv"
fi

# pkg-config consumer.
export PKG_CONFIG_PATH="$WORK/prefix/$LIBDIR/pkgconfig"
# shellcheck disable=SC2046
c++ -std=c++20 "$SOURCE_DIR/tests/install/consumer/consumer.cpp" -o "$WORK/consumer-pc" \
    $(pkg-config --cflags --libs shmframe)
"$WORK/consumer-pc"
# The Python package, when built: importable from the prefix, finding its library
# through its RPATH (no LD_LIBRARY_PATH).
if [ -d "$WORK/prefix/lib/python3/dist-packages/shmframe" ] && [ -x /usr/bin/python3 ]; then
    env -u LD_LIBRARY_PATH PYTHONPATH="$WORK/prefix/lib/python3/dist-packages" \
        /usr/bin/python3 -c 'import shmframe; assert "NV12" in shmframe.pixel_formats()'
    echo "installed Python package imports"
fi
echo "1 passed, 0 failed"
