// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe serve [FEED...]`: live feeds as RTSP streams (H.264) for other hosts.
// The options are checked here; rtsp_bridge.cpp does the GStreamer part and is only
// built when gst-rtsp-server is installed.
#include <memory>
#include <set>

#include "cli.h"
#include "rtsp_bridge.h"

namespace shmframe::cli {
namespace {

int runServe(const ServeOptions& options) {
    std::set<std::string> seen;
    for (const std::string& feed : options.feeds) {
        if (!feed.empty() && feed.front() == '/') {
            printError("serve", "'" + feed +
                                    "' is a path; serve takes feed names (the feeds of the "
                                    "feed directory, see --dir)");
            return kExitUsage;
        }
        if (auto valid = validateFeedName(feed); !valid) {
            return reportError("serve", valid.error());
        }
        if (!seen.insert(feed).second) {
            printError("serve", "feed '" + feed + "' is named twice");
            return kExitUsage;
        }
    }
    if (options.address.empty()) {
        printError("serve", "--address is empty (use an address of this host, e.g. 127.0.0.1)");
        return kExitUsage;
    }
#ifdef SHMFRAME_HAVE_RTSP_SERVER
    return runRtspBridge(options);
#else
    printError("serve",
               "this shmframe was built without gst-rtsp-server; install "
               "libgstrtspserver-1.0-dev and rebuild to get `shmframe serve`");
    return kExitRuntime;
#endif
}

}  // namespace

void addServeCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<ServeOptions>();
    CLI::App* command = app.add_subcommand(
        "serve", "Serve live feeds as RTSP streams (H.264) at rtsp://ADDRESS:PORT/FEED");
    command->add_option("FEED", options->feeds,
                        "Feeds to serve (default: every live feed, as writers come and go)");
    command
        ->add_option("--address", options->address,
                     "Address to listen on (0.0.0.0 for every interface)")
        ->capture_default_str();
    command
        ->add_option("--port", options->port, "TCP port for RTSP (0: pick a free one and print it)")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    command
        ->add_option("--bitrate", options->bitrateKbps,
                     "H.264 bit rate in kbit/s (default: 0.1 bit per pixel and frame, e.g. 2765 "
                     "for 1280x720 at 30 fps)")
        ->check(CLI::Range(1, 200000));
    command->add_option("--encoder", options->encoder,
                        "GStreamer elements from raw video to RTP, the payloader named pay0 (e.g. "
                        "\"vp8enc deadline=1 ! rtpvp8pay name=pay0 pt=96\"); default: x264enc "
                        "tune=zerolatency speed-preset=ultrafast ! rtph264pay");
    command->footer(
        "Prints \"serving URL\" when a feed is mounted and \"stopped URL\" when its writer is "
        "gone.\nClients: gst-launch-1.0 rtspsrc location=URL latency=0 ! decodebin ! "
        "videoconvert ! autovideosink\n(or ffplay/VLC). Stops on Ctrl-C or SIGTERM.");
    command->callback([options, &action] { action = [options] { return runServe(*options); }; });
}

}  // namespace shmframe::cli
