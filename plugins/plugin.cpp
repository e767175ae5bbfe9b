// SPDX-License-Identifier: LGPL-2.1-or-later
// The GStreamer plugin "shmframe": shmframesink and shmframesrc.
#include <gst/gst.h>

#include <string>

#include "device_provider.h"
#include "shmframe/log.h"
#include "shmframe/version.h"
#include "shmframe_sink.h"
#include "shmframe_src.h"

GST_DEBUG_CATEGORY_STATIC(shmframe_library_debug);

namespace {

// The library's lines join GStreamer's log (GST_DEBUG=shmframe:5) instead of stderr.
// The handler only reaches the copy of the library linked into this plugin.
void routeLibraryLog(shmframe::LogLevel level, std::string_view message) {
    const std::string text(message);
    switch (level) {
        case shmframe::LogLevel::Debug:
            GST_CAT_DEBUG(shmframe_library_debug, "%s", text.c_str());
            break;
        case shmframe::LogLevel::Info:
            GST_CAT_INFO(shmframe_library_debug, "%s", text.c_str());
            break;
        case shmframe::LogLevel::Warning:
            GST_CAT_WARNING(shmframe_library_debug, "%s", text.c_str());
            break;
        case shmframe::LogLevel::Error:
            GST_CAT_ERROR(shmframe_library_debug, "%s", text.c_str());
            break;
    }
}

gboolean pluginInit(GstPlugin* plugin) {
    GST_DEBUG_CATEGORY_INIT(shmframe_library_debug, "shmframe", 0, "libshmframe");
    shmframe::setLogHandler(routeLibraryLog);
    gboolean ok = FALSE;
    ok |= GST_ELEMENT_REGISTER(shmframesink, plugin);
    ok |= GST_ELEMENT_REGISTER(shmframesrc, plugin);
    GST_DEVICE_PROVIDER_REGISTER(shmframedeviceprovider, plugin);
    return ok;
}

}  // namespace

#define PACKAGE "shmframe"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, shmframe,
                  "Zero-copy video frames between processes through shared-memory frame pools",
                  pluginInit, SHMFRAME_VERSION_STRING, "LGPL", "shmframe", "shmframe project")
