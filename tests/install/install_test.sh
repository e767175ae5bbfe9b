#!/usr/bin/env bash
# Installs the build into a temporary (non-system) prefix, then checks what a user of
# that prefix sees: a consumer project built with CMake (find_package, no C++ standard
# of its own) and with pkg-config runs without LD_LIBRARY_PATH, the installed CLI runs
# and finds its benchmark suite, and GStreamer loads the plugin with GST_PLUGIN_PATH.
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
BUILD_DIR=$1
SOURCE_DIR=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export SHMFRAME_DIR="$WORK/feeds"
unset LD_LIBRARY_PATH GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0 SHMFRAME_BENCH_SCRIPT

PREFIX="$WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$PREFIX" > "$WORK/install.log"
LIBDIR=$(cd "$PREFIX" && dirname "$(find . -name 'libshmframe.so' | head -1)")
test -f "$PREFIX/include/shmframe/shmframe.h"
test -f "$PREFIX/include/shmframe/version.h"
test -f "$PREFIX/$LIBDIR/pkgconfig/shmframe.pc"
test -f "$PREFIX/$LIBDIR/cmake/shmframe/shmframeConfig.cmake"
soname=$(objdump -p "$PREFIX/$LIBDIR/libshmframe.so" | awk '/SONAME/ {print $2}')
echo "installed libshmframe with SONAME $soname"
[[ $soname == libshmframe.so.* ]]

# Every installed ELF file resolves its libraries from the prefix on its own.
while IFS= read -r file; do
    if ! file -b "$file" | grep -q '^ELF'; then
        continue
    fi
    if ldd "$file" | grep -q 'not found'; then
        echo "FAIL: ${file#"$PREFIX"/} does not find its libraries:"
        ldd "$file" | grep 'not found'
        exit 1
    fi
    if ldd "$file" | grep -q 'libshmframe' && ! ldd "$file" | grep 'libshmframe' | grep -q "$PREFIX"; then
        echo "FAIL: ${file#"$PREFIX"/} takes libshmframe from outside the prefix"
        exit 1
    fi
done < <(find "$PREFIX" -type f \( -perm -u+x -o -name '*.so*' \))
echo "installed programs and libraries find libshmframe through their RUNPATH"

# The CLI runs from the prefix.
if [ -x "$PREFIX/bin/shmframe" ]; then
    "$PREFIX/bin/shmframe" --version
    "$PREFIX/bin/shmframe" list > /dev/null
    if [ -d "$PREFIX/libexec/shmframe/bench" ]; then
        which=$("$PREFIX/bin/shmframe" bench --which)
        echo "shmframe bench runs $which"
        [ "$which" = "$PREFIX/bin/../libexec/shmframe/bench/run.sh" ]
    fi
fi

# GStreamer loads the plugin from the prefix with only GST_PLUGIN_PATH set.
plugin=$(find "$PREFIX" -name 'libgstshmframe.so' | head -1)
if [ -n "$plugin" ]; then
    GST_PLUGIN_PATH=$(dirname "$plugin") GST_REGISTRY="$WORK/registry.bin" \
        gst-inspect-1.0 shmframesrc > "$WORK/inspect.log" 2>&1 ||
        { cat "$WORK/inspect.log"; echo "FAIL: GStreamer does not load the installed plugin"; exit 1; }
    grep -q 'feed' "$WORK/inspect.log"
    echo "GStreamer loads $(basename "$plugin") from the prefix"
fi

# CMake consumer: no LD_LIBRARY_PATH, no CMAKE_CXX_STANDARD of its own.
cmake -S "$SOURCE_DIR/tests/install/consumer" -B "$WORK/consumer" -G Ninja \
      -DCMAKE_PREFIX_PATH="$PREFIX" > "$WORK/configure.log"
cmake --build "$WORK/consumer" > "$WORK/build.log"
"$WORK/consumer/consumer"
if [ -x "$WORK/consumer/consumer_opencv" ]; then
    "$WORK/consumer/consumer_opencv"
fi

# pkg-config consumer (the rpath is the user's choice, as with any library in a prefix).
export PKG_CONFIG_PATH="$PREFIX/$LIBDIR/pkgconfig"
libdir=$(pkg-config --variable=libdir shmframe)
# shellcheck disable=SC2046
c++ -std=c++20 "$SOURCE_DIR/tests/install/consumer/consumer.cpp" -o "$WORK/consumer-pc" \
    $(pkg-config --cflags --libs shmframe) -Wl,-rpath,"$libdir"
"$WORK/consumer-pc"
if [ -f "$PREFIX/$LIBDIR/pkgconfig/shmframe-opencv.pc" ]; then
    # shellcheck disable=SC2046
    c++ -std=c++20 "$SOURCE_DIR/tests/install/consumer/consumer_opencv.cpp" \
        -o "$WORK/consumer-opencv-pc" $(pkg-config --cflags --libs shmframe-opencv) \
        -Wl,-rpath,"$libdir"
    "$WORK/consumer-opencv-pc"
fi
# The Python package, when built: importable from the prefix, finding its library
# through its RPATH (no LD_LIBRARY_PATH).
if [ -d "$PREFIX/lib/python3/dist-packages/shmframe" ] && [ -x /usr/bin/python3 ]; then
    env -u LD_LIBRARY_PATH PYTHONPATH="$PREFIX/lib/python3/dist-packages" \
        /usr/bin/python3 -c 'import shmframe; assert "NV12" in shmframe.pixel_formats()'
    echo "installed Python package imports"
fi
echo "1 passed, 0 failed"
