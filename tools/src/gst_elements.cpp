// SPDX-License-Identifier: LGPL-2.1-or-later
#include "gst_elements.h"

#include <gst/gst.h>
#include <limits.h>
#include <stdlib.h>

#include <string>

namespace shmframe::cli {
namespace {

[[maybe_unused]] std::string canonicalPath(const char* path) {
    char resolved[PATH_MAX];
    return realpath(path, resolved) ? std::string(resolved) : std::string();
}

}  // namespace

bool hasGstElement(const char* name) {
    GstElementFactory* factory = gst_element_factory_find(name);
    if (!factory) {
        return false;
    }
    gst_object_unref(factory);
    return true;
}

bool findShmframePlugin() {
    if (hasGstElement("shmframesrc")) {
        return true;
    }
#if defined(SHMFRAME_BUILD_PLUGIN_DIR) && defined(SHMFRAME_BUILD_CLI_DIR)
    const std::string exe = canonicalPath("/proc/self/exe");
    const std::string buildCliDir = canonicalPath(SHMFRAME_BUILD_CLI_DIR);
    if (!exe.empty() && !buildCliDir.empty() && exe.rfind(buildCliDir + "/", 0) == 0) {
        gst_registry_scan_path(gst_registry_get(), SHMFRAME_BUILD_PLUGIN_DIR);
        const char* previous = g_getenv("GST_PLUGIN_PATH");
        std::string path = SHMFRAME_BUILD_PLUGIN_DIR;
        if (previous && *previous) {
            path += ":" + std::string(previous);
        }
        g_setenv("GST_PLUGIN_PATH", path.c_str(), TRUE);
    }
#endif
    return hasGstElement("shmframesrc");
}

}  // namespace shmframe::cli
