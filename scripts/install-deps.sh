#!/usr/bin/env bash
# Installs the Debian 12 packages shmframe needs to build, test and run.
# Idempotent: does nothing (not even apt-get update) when everything is there.
set -euo pipefail

PACKAGES=(
    # toolchain
    build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox python3-matplotlib
    # command line
    libcli11-dev nlohmann-json3-dev
    # OpenCV (C++ and Python)
    libopencv-dev python3-opencv python3-numpy
    # the Python package (pybind11) and its tests
    pybind11-dev python3-pybind11 python3-dev python3-pytest
    # GStreamer and the network bridge
    libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-base-apps
    gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-x
    libgstrtspserver-1.0-dev gstreamer1.0-rtsp
    # `shmframe web` (libsoup 3, webrtcbin with libnice) and its browser tests
    libsoup-3.0-dev libnice-dev gstreamer1.0-nice chromium nodejs
    # Qt 6 viewer, and an X server for tests without a display (Mesa's llvmpipe gives
    # it OpenGL for the shader tests)
    qt6-base-dev qt6-base-dev-tools libqt6opengl6-dev libgl-dev qt6-qpa-plugins
    libqt6svg6 fonts-dejavu-core xvfb xauth x11-utils imagemagick libgl1-mesa-dri
    # packaging, manual pages, shell completion, API reference
    dpkg-dev file debhelper dh-python lintian devscripts fakeroot help2man bash-completion zsh
    doxygen graphviz
)

# The browser tests' puppeteer-core (tests/web/package-lock.json), installed when npm
# is there and node_modules is missing or older than the lock file.
install_web_test_modules() {
    local dir
    dir="$(dirname "$0")/../tests/web"
    if command -v npm >/dev/null && [ -f "$dir/package-lock.json" ] &&
        [ ! "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
        (cd "$dir" && npm ci --no-audit --no-fund)
    fi
}

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
# npm comes with Node.js's own packages (which conflict with Debian's npm) or, with
# Debian's nodejs, from Debian's npm: ask for it only when no npm is on the PATH.
if ! command -v npm >/dev/null; then
    missing+=(npm)
fi
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages are installed"
    install_web_test_modules
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    SUDO="sudo"
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
install_web_test_modules
