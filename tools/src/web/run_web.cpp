// SPDX-License-Identifier: LGPL-2.1-or-later
// runWebServer(): GStreamer and the main loop around a WebServer, until a signal.
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdlib.h>

#include <iostream>

#include "../cli.h"
#include "../gst_elements.h"
#include "web_options.h"
#include "web_server.h"

namespace shmframe::cli::web {
namespace {

Result<void> checkElements() {
    if (!findShmframePlugin()) {
        return Error::make(Errc::Unsupported,
                           "the shmframe GStreamer plugin (element shmframesrc) was not found: "
                           "install it where GStreamer looks for plugins, or set "
                           "GST_PLUGIN_PATH to the folder holding libgstshmframe.so");
    }
    struct Needed {
        const char* element;
        const char* package;
    };
    for (const Needed& needed : {Needed{"videoconvert", "gstreamer1.0-plugins-base"},
                                 Needed{"vp8enc", "gstreamer1.0-plugins-good"},
                                 Needed{"rtpvp8pay", "gstreamer1.0-plugins-good"},
                                 Needed{"webrtcbin", "gstreamer1.0-plugins-bad"},
                                 Needed{"nicesrc", "gstreamer1.0-nice"}}) {
        if (!hasGstElement(needed.element)) {
            return Error::make(Errc::Unsupported, std::string("GStreamer element ") +
                                                      needed.element + " is missing: install " +
                                                      needed.package);
        }
    }
    return {};
}

}  // namespace

int runWebServer(const WebOptions& options) {
    gst_init(nullptr, nullptr);
    if (auto ready = checkElements(); !ready) {
        return reportError("web", ready.error());
    }
    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
    {
        WebServer server(options);
        auto url = server.start();
        if (!url) {
            g_main_loop_unref(loop);
            return reportError("web", url.error());
        }
        std::cout << "listening " << *url << std::endl;
        if (!options.token.empty()) {
            std::cout << "token " << options.token << std::endl;
        }
        auto quit = [](gpointer data) -> gboolean {
            g_main_loop_quit(static_cast<GMainLoop*>(data));
            return G_SOURCE_CONTINUE;
        };
        const guint intSource = g_unix_signal_add(SIGINT, quit, loop);
        const guint termSource = g_unix_signal_add(SIGTERM, quit, loop);
        g_main_loop_run(loop);
        g_source_remove(intSource);
        g_source_remove(termSource);
    }
    g_main_loop_unref(loop);
    return kExitOk;
}

}  // namespace shmframe::cli::web
