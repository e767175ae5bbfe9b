#!/usr/bin/env bash
# Builds the Debian packages (scripts/package.sh), installs them with dpkg, and checks
# what a user of the packages sees: each package depends only on what it needs, the
# binaries are stripped (with -dbgsym packages beside), a consumer builds against the
# installed headers with CMake and with pkg-config and runs, the CLI, its manual page
# and completion work, and GStreamer finds the plugin without GST_PLUGIN_PATH. Then it
# purges the packages and checks that nothing they installed is left.
# It changes the system's packages, so it runs only when asked (SHMFRAME_TEST_DEB=1,
# which CI sets) and as root; otherwise it says so and counts as skipped. Whatever
# happens, the packages it installed are purged when it exits.
#   deb_test.sh SOURCE_DIR
# SHMFRAME_DEB_DIR=DIR tests the packages scripts/package.sh already built into DIR
# instead of building them again.
set -euo pipefail
SOURCE_DIR=$(cd "$1" && pwd)
PACKAGES=(libshmframe0 libshmframe-opencv0 libshmframe-qt0 libshmframe-dev
          libshmframe-opencv-dev libshmframe-qt-dev gstreamer1.0-shmframe shmframe-tools
          shmframe-viewer)
# python3-shmframe when debian/control has it.
with_python=0
if grep -q '^Package: python3-shmframe$' "$SOURCE_DIR/debian/control"; then
    with_python=1
    PACKAGES+=(python3-shmframe)
fi
if [ "${SHMFRAME_TEST_DEB:-0}" != 1 ] || [ "$(id -u)" -ne 0 ]; then
    echo "skipped: set SHMFRAME_TEST_DEB=1 and run as root to install the packages for real"
    exit 77
fi
for package in shmframe "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q installed; then
        echo "skipped: $package is already installed on this machine"
        exit 77
    fi
done
WORK=$(mktemp -d)
publisher=""
cleanup() {
    if [ -n "$publisher" ]; then
        kill "$publisher" 2>/dev/null || true
        wait "$publisher" 2>/dev/null || true
    fi
    dpkg --purge "${PACKAGES[@]}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

DEB_DIR=${SHMFRAME_DEB_DIR:-}
if [ -z "$DEB_DIR" ]; then
    DEB_DIR="$WORK/build-deb"
    BUILD_DIR="$DEB_DIR" "$SOURCE_DIR/scripts/package.sh" > "$WORK/package.log" 2>&1 ||
        { tail -40 "$WORK/package.log"; fail "scripts/package.sh failed"; }
    grep -E '^[EW]: ' "$WORK/package.log" | sed 's/^/lintian: /' || true
fi
debs=()
for package in "${PACKAGES[@]}"; do
    deb=$(ls "$DEB_DIR"/"${package}"_*.deb) || fail "no package $package in $DEB_DIR"
    debs+=("$deb")
    echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
    ls "$DEB_DIR"/"${package}"-dbgsym_*.deb >/dev/null 2>&1 ||
        [[ $package == *-dev ]] || fail "no -dbgsym package for $package"
done

# Each package depends on what it uses, and nothing more.
depends() { dpkg-deb -f "$(ls "$DEB_DIR"/"$1"_*.deb)" Depends; }
for package in libshmframe0 libshmframe-dev; do
    if depends "$package" | grep -Eiq 'qt6|opencv|gstreamer|gst'; then
        fail "$package pulls in $(depends "$package")"
    fi
done
for package in gstreamer1.0-shmframe libshmframe-qt0 libshmframe-qt-dev; do
    if depends "$package" | grep -Eiq 'opencv'; then
        fail "$package pulls in $(depends "$package")"
    fi
done
if depends gstreamer1.0-shmframe | grep -Eiq 'qt6'; then
    fail "gstreamer1.0-shmframe pulls in $(depends gstreamer1.0-shmframe)"
fi
depends shmframe-viewer | grep -q libshmframe0 || fail "shmframe-viewer does not depend on libshmframe0"
depends shmframe-viewer | grep -q libshmframe-qt0 || fail "shmframe-viewer does not depend on libshmframe-qt0"
if [ "$with_python" = 1 ]; then
    if depends python3-shmframe | grep -Eiq 'qt6|opencv|gstreamer|gst'; then
        fail "python3-shmframe pulls in $(depends python3-shmframe)"
    fi
    depends python3-shmframe | grep -q python3-numpy ||
        fail "python3-shmframe does not depend on python3-numpy"
fi

dpkg -i "${debs[@]}" > "$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; fail "dpkg -i failed"; }
installed_files=()
for package in "${PACKAGES[@]}"; do
    while IFS= read -r file; do
        [ -f "$file" ] && installed_files+=("$file")
    done < <(dpkg-query -L "$package")
done
echo "installed ${#installed_files[@]} files from ${#PACKAGES[@]} packages"

# Stripped, and no RUNPATH into the build.
for file in /usr/bin/shmframe /usr/bin/shmframe-viewer /usr/lib/*/libshmframe.so.0.* \
            /usr/lib/*/libshmframe_opencv.so.0.* /usr/lib/*/libshmframe-qt.so.0.* \
            /usr/lib/*/gstreamer-1.0/libgstshmframe.so \
            $([ "$with_python" = 0 ] || echo /usr/lib/python3/dist-packages/shmframe/_shmframe*.so); do
    [ -f "$file" ] || fail "$file is not installed"
    file -b "$file" | grep -q ', stripped' || fail "$file is not stripped"
    if objdump -p "$file" | grep -Eq 'RUNPATH|RPATH'; then
        fail "$file has an RPATH/RUNPATH"
    fi
done

# A consumer against the installed headers, with CMake and with pkg-config.
export SHMFRAME_DIR="$WORK/feeds"
cmake -S "$SOURCE_DIR/tests/install/consumer" -B "$WORK/consumer" -G Ninja > "$WORK/configure.log" ||
    { cat "$WORK/configure.log"; fail "the consumer does not configure"; }
cmake --build "$WORK/consumer" > "$WORK/build.log" || { cat "$WORK/build.log"; fail "the consumer does not build"; }
"$WORK/consumer/consumer"
[ -x "$WORK/consumer/consumer_opencv" ] || fail "find_package(shmframe) found no shmframe::opencv"
"$WORK/consumer/consumer_opencv"
# shellcheck disable=SC2046
c++ -std=c++20 "$SOURCE_DIR/tests/install/consumer/consumer.cpp" -o "$WORK/consumer-pc" \
    $(pkg-config --cflags --libs shmframe)
"$WORK/consumer-pc"
# shellcheck disable=SC2046
c++ -std=c++20 "$SOURCE_DIR/tests/install/consumer/consumer_opencv.cpp" -o "$WORK/consumer-opencv-pc" \
    $(pkg-config --cflags --libs shmframe-opencv)
"$WORK/consumer-opencv-pc"
# The Qt widget, with pkg-config (offscreen: no display needed).
cat > "$WORK/consumer_qt.cpp" <<'CPP'
#include <QApplication>
#include <shmframe/qt/feed_widget.h>
int main(int argc, char** argv) {
    QApplication app(argc, argv);
    shmframe::qt::FeedWidget widget(QStringLiteral("debfeed"));
    widget.resize(64, 48);
    return 0;
}
CPP
# shellcheck disable=SC2046
c++ -std=c++20 -fPIC "$WORK/consumer_qt.cpp" -o "$WORK/consumer-qt-pc" \
    $(pkg-config --cflags --libs shmframe-qt)
QT_QPA_PLATFORM=offscreen "$WORK/consumer-qt-pc"

# The Python module, from the system's python3 (not from the source tree, nor a python3
# that pyenv or a venv put first on PATH: the package is for Debian's).
if [ "$with_python" = 1 ]; then
    (cd "$WORK" && env -u PYTHONPATH /usr/bin/python3 -c 'import shmframe, sys; sys.exit(0 if shmframe.__file__.startswith("/usr/lib/python3/dist-packages/") else 1)') ||
        fail "python3 does not import shmframe from /usr/lib/python3/dist-packages"
fi

# The CLI with a live feed, its manual pages and completion.
shmframe --version
shmframe publish debfeed --quiet --size 64x48 --frames 1 --linger &
publisher=$!
for _ in $(seq 200); do
    shmframe list --names | grep -qx debfeed && break
    sleep 0.1
done
shmframe list --names | grep -qx debfeed || fail "shmframe list does not show the published feed"
shmframe info debfeed > /dev/null
# The Python module from the package reads that frame (RGBA 64x48: one plane).
if [ "$with_python" = 1 ]; then
    (cd "$WORK" && env -u PYTHONPATH /usr/bin/python3 - <<'PY') || fail "python3-shmframe does not read a frame of the live feed"
import shmframe
with shmframe.Reader("debfeed", client_name="deb_test") as reader:
    with reader.next(timeout=10) as frame:
        pixels = frame.plane(0)
        assert frame.format.pixel_format == "RGBA", frame.format.pixel_format
        assert pixels.shape == (48, 64, 4), pixels.shape
        assert pixels.any(), "the frame is all zeros"
        print("python3-shmframe read frame", frame.meta.sequence, "of debfeed:", pixels.shape)
PY
fi
kill "$publisher"
wait "$publisher" || true
publisher=""
test -f /usr/share/man/man1/shmframe.1.gz || fail "no manual page shmframe(1)"
test -f /usr/share/man/man1/shmframe-top.1.gz || fail "no manual page shmframe-top(1)"
test -f /usr/share/man/man1/shmframe-viewer.1.gz || fail "no manual page shmframe-viewer(1)"
test -f /usr/share/bash-completion/completions/shmframe || fail "no bash completion"
test -f /usr/share/zsh/vendor-completions/_shmframe || fail "no zsh completion"
test -f /usr/share/applications/shmframe-viewer.desktop || fail "no desktop file"

# GStreamer finds the plugin in its own directory.
unset GST_PLUGIN_PATH
export GST_REGISTRY="$WORK/registry.bin"
# (Captured first: grep -q would end the pipe early and pipefail would see SIGPIPE.)
for element in shmframesink shmframesrc; do
    inspect=$(gst-inspect-1.0 "$element") || fail "gst-inspect-1.0 does not find $element"
    grep -q "feed" <<<"$inspect" || fail "gst-inspect-1.0 $element does not describe the feed property"
done
pkg-config --modversion shmframe

dpkg --purge "${PACKAGES[@]}" > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "dpkg --purge failed"; }
for file in "${installed_files[@]}"; do
    [ ! -e "$file" ] || fail "$file is still there after dpkg --purge"
done
for dir in /usr/include/shmframe /usr/lib/*/cmake/shmframe /usr/lib/python3/dist-packages/shmframe \
           /usr/share/doc/libshmframe0; do
    [ ! -e "$dir" ] || fail "$dir is still there after dpkg --purge"
done
rm -f "$GST_REGISTRY"
if gst-inspect-1.0 shmframesink >/dev/null 2>&1; then
    fail "GStreamer still finds shmframesink after dpkg --purge"
fi
echo "removed cleanly: ${#installed_files[@]} files gone"
echo "1 passed, 0 failed"
