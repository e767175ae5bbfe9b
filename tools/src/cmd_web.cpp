// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe web [--listen HOST:PORT] [FEED...]`: live feeds in a browser (WebRTC,
// MJPEG, PNG snapshots). The options are checked here; web/ does the serving and is
// only built when libsoup 3, libnice and GStreamer's WebRTC library are installed.
#include <sys/random.h>

#include <cstdio>
#include <memory>
#include <set>

#include "cli.h"
#include "web/web_options.h"

namespace shmframe::cli {
namespace {

// "127.0.0.1:8080", "[::1]:8080" -> host and port.
bool parseListen(const std::string& text, web::WebOptions& options) {
    std::string host;
    std::string port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find("]:");
        if (close == std::string::npos) {
            return false;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon) {
            return false;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty() || port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    const unsigned long value = std::stoul(port);
    if (value > 65535) {
        return false;
    }
    options.host = host;
    options.port = static_cast<std::uint16_t>(value);
    return true;
}

// 128 random bits as 32 hex digits.
std::string randomToken() {
    unsigned char bytes[16];
    std::size_t filled = 0;
    while (filled < sizeof bytes) {
        const ssize_t got = getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (got > 0) {
            filled += static_cast<std::size_t>(got);
        }
    }
    std::string token;
    char hex[3];
    for (unsigned char byte : bytes) {
        std::snprintf(hex, sizeof hex, "%02x", byte);
        token += hex;
    }
    return token;
}

int runWeb(web::WebOptions options, const std::string& listen) {
    if (!parseListen(listen, options)) {
        printError("web", "--listen '" + listen +
                              "' is not HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)");
        return kExitUsage;
    }
    std::set<std::string> seen;
    for (const std::string& feed : options.feeds) {
        if (auto valid = validateFeedName(feed); !valid) {
            return reportError("web", valid.error());
        }
        if (!seen.insert(feed).second) {
            printError("web", "feed '" + feed + "' is named twice");
            return kExitUsage;
        }
    }
    if (!options.token.empty() &&
        (options.token.size() < 8 || options.token.size() > 128 ||
         options.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-._~") != std::string::npos)) {
        printError("web", "--token must be 8 to 128 characters of A-Z a-z 0-9 - . _ ~");
        return kExitUsage;
    }
    if (options.maxViewersPerFeed > options.maxViewers) {
        printError("web", "--max-viewers-per-feed is more than --max-viewers");
        return kExitUsage;
    }
    if (options.token.empty() && !web::isLoopbackWithoutToken(options.host)) {
        options.token = randomToken();
    }
#ifdef SHMFRAME_HAVE_WEB
    return web::runWebServer(options);
#else
    printError("web",
               "this shmframe was built without libsoup 3 / libnice / gstreamer-webrtc; "
               "install libsoup-3.0-dev, libnice-dev and libgstreamer-plugins-bad1.0-dev and "
               "rebuild to get `shmframe web`");
    return kExitRuntime;
#endif
}

}  // namespace

namespace web {
bool isLoopbackWithoutToken(const std::string& host) {
    return host == "127.0.0.1" || host == "::1";
}
}  // namespace web

void addWebCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<web::WebOptions>();
    auto listen = std::make_shared<std::string>("127.0.0.1:8080");
    CLI::App* command = app.add_subcommand(
        "web", "Show live feeds in a web browser (WebRTC video, MJPEG, PNG snapshots)");
    command->add_option("FEED", options->feeds,
                        "Feeds to offer (default: every live feed, as writers come and go)");
    command
        ->add_option("--listen", *listen,
                     "HOST:PORT to listen on; any address but 127.0.0.1 and ::1 needs a token "
                     "(port 0: pick a free one)")
        ->capture_default_str();
    command->add_option("--token", options->token,
                        "Token the page and the WebSocket must present (?token=T); default: none "
                        "on 127.0.0.1 and ::1, a random one (printed) elsewhere");
    command->add_option("--stun", options->stunServer,
                        "STUN server for ICE, stun://HOST:PORT (default: none, host candidates "
                        "on the listen address only)");
    command
        ->add_option("--max-viewers-per-feed", options->maxViewersPerFeed,
                     "Viewers (WebRTC and MJPEG) of one feed")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command->add_option("--max-viewers", options->maxViewers, "Viewers of all feeds together")
        ->check(CLI::Range(1, 1000))
        ->capture_default_str();
    command
        ->add_option("--bitrate", options->bitrateKbps,
                     "VP8 bit rate in kbit/s (default: 0.1 bit per pixel and frame)")
        ->check(CLI::Range(1, 200000));
    command->footer(
        "Prints \"listening URL\" once the server is up; open that URL in a browser.\n"
        "Endpoints: / (the page), /feeds (JSON), /feeds/NAME.mjpeg, /feeds/NAME/thumb.jpg,\n"
        "/feeds/NAME/snapshot.png (full resolution), /stats (JSON), /ws (signalling).\n"
        "Stops on Ctrl-C or SIGTERM.");
    command->callback([options, listen, &action] {
        action = [options, listen] { return runWeb(*options, *listen); };
    });
}

}  // namespace shmframe::cli
