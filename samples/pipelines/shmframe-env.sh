# shellcheck shell=sh
# Sourced by the pipeline scripts. shmframe_find_plugin makes the shmframe GStreamer
# plugin findable.
# An installed plugin is used as is. Otherwise the plugin of a build tree is put
# on GST_PLUGIN_PATH: $SHMFRAME_PLUGIN_DIR, else the build this copy of the script
# lives in (<build>/samples/pipelines -> <build>/plugins), else <source>/build/plugins.

shmframe_find_plugin() {
    if gst-inspect-1.0 shmframesink >/dev/null 2>&1; then
        return 0
    fi
    here=$(cd "$(dirname "$0")" && pwd)
    for dir in "${SHMFRAME_PLUGIN_DIR:-}" "$here/../../plugins" "$here/../../build/plugins"; do
        if [ -z "$dir" ] || [ ! -d "$dir" ]; then continue; fi
        plugin=$(find "$dir" -maxdepth 2 -name 'libgstshmframe*.so' 2>/dev/null | head -n 1)
        if [ -n "$plugin" ]; then
            GST_PLUGIN_PATH="$(dirname "$plugin")${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
            export GST_PLUGIN_PATH
            break
        fi
    done
    if ! gst-inspect-1.0 shmframesink >/dev/null 2>&1; then
        echo "error: the shmframe GStreamer plugin (shmframesink, shmframesrc) was not found." >&2
        echo "Build it (cmake --build build) and run this script from build/samples/pipelines," >&2
        echo "or set SHMFRAME_PLUGIN_DIR to the folder holding libgstshmframe.so." >&2
        exit 1
    fi
}

shmframe_usage() {
    echo "usage: $1" >&2
    exit 2
}
