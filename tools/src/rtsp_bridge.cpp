// SPDX-License-Identifier: LGPL-2.1-or-later
#include "rtsp_bridge.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "cli.h"
#include "gst_elements.h"
#include "shmframe/feed.h"
#include "shmframe/feed_watch.h"

namespace shmframe::cli {
namespace {

constexpr const char* kCommand = "serve";
// How long a mounted feed may be missing from the listing before it is unmounted.
constexpr std::chrono::milliseconds kUnmountGrace{1000};
// UDP ports for RTP and RTCP, in pairs (Linux's default ephemeral range).
constexpr guint16 kFirstUdpPort = 32768;
constexpr guint16 kLastUdpPort = 60999;

struct GObjectUnref {
    void operator()(gpointer object) const {
        if (object) {
            g_object_unref(object);
        }
    }
};
template <typename T>
using GRef = std::unique_ptr<T, GObjectUnref>;

std::string takeMessage(GError* error) {
    std::string message = error ? error->message : "unknown error";
    g_clear_error(&error);
    return message;
}

Result<void> checkElements(const ServeOptions& options) {
    if (!findShmframePlugin()) {
        return Error::make(Errc::Unsupported,
                           "the shmframe GStreamer plugin (element shmframesrc) was not found: "
                           "install it where GStreamer looks for plugins (the .deb or `cmake "
                           "--install` does), or set GST_PLUGIN_PATH to the folder holding "
                           "libgstshmframe.so");
    }
    if (!hasGstElement("videoconvert")) {
        return Error::make(Errc::Unsupported,
                           "GStreamer element videoconvert is missing: install "
                           "gstreamer1.0-plugins-base");
    }
    if (!hasGstElement("videocrop")) {
        return Error::make(Errc::Unsupported,
                           "GStreamer element videocrop is missing: install "
                           "gstreamer1.0-plugins-good");
    }
    if (options.encoder.empty()) {
        if (!hasGstElement("x264enc")) {
            return Error::make(Errc::Unsupported,
                               "GStreamer element x264enc is missing: install "
                               "gstreamer1.0-plugins-ugly, or pick another encoder with "
                               "--encoder");
        }
        if (!hasGstElement("rtph264pay")) {
            return Error::make(Errc::Unsupported,
                               "GStreamer element rtph264pay is missing: install "
                               "gstreamer1.0-plugins-good");
        }
        return {};
    }
    GError* error = nullptr;
    // As it will run: after videocrop, so it may start with caps.
    const std::string description = "identity ! " + options.encoder;
    GstElement* bin = gst_parse_bin_from_description(description.c_str(), FALSE, &error);
    if (!bin) {
        return Error::make(Errc::InvalidArgument,
                           "bad --encoder '" + options.encoder + "': " + takeMessage(error));
    }
    g_clear_error(&error);  // a warning about a missing property, if any
    GstElement* payloader = gst_bin_get_by_name(GST_BIN(bin), "pay0");
    gst_object_unref(bin);
    if (!payloader) {
        return Error::make(Errc::InvalidArgument,
                           "bad --encoder '" + options.encoder +
                               "': it needs an RTP payloader named pay0 at its end (e.g. \"... ! "
                               "rtph264pay name=pay0 pt=96\")");
    }
    gst_object_unref(payloader);
    return {};
}

bool isWildcard(const std::string& address) {
    return address == "0.0.0.0" || address == "::" || address == "[::]";
}

// A media's shmframesrc saw end of stream: that shared media is done, and the next
// client must get a fresh one.
using EndedFlag = std::shared_ptr<std::atomic<bool>>;

void deleteEndedFlag(gpointer data) {
    delete static_cast<EndedFlag*>(data);
}

GstPadProbeReturn onSourceEvent(GstPad*, GstPadProbeInfo* info, gpointer data) {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
        (*static_cast<EndedFlag*>(data))->store(true);
    }
    return GST_PAD_PROBE_OK;
}

// Width, height and frame rate (30 if unknown) of a caps event.
bool videoSizeOf(GstEvent* event, int& width, int& height, double& fps) {
    if (!event || GST_EVENT_TYPE(event) != GST_EVENT_CAPS) {
        return false;
    }
    GstCaps* caps = nullptr;
    gst_event_parse_caps(event, &caps);
    const GstStructure* structure =
        caps && gst_caps_get_size(caps) > 0 ? gst_caps_get_structure(caps, 0) : nullptr;
    if (!structure || !gst_structure_get_int(structure, "width", &width) ||
        !gst_structure_get_int(structure, "height", &height) || width <= 0 || height <= 0) {
        return false;
    }
    int rateNum = 0;
    int rateDen = 1;
    fps = 30.0;
    if (gst_structure_get_fraction(structure, "framerate", &rateNum, &rateDen) && rateNum > 0 &&
        rateDen > 0) {
        fps = double(rateNum) / double(rateDen);
    }
    return true;
}

// Keeps the default encoder's bit rate in step with the stream: a writer that
// restarts with another size gets the rate of its new size.
GstPadProbeReturn onEncoderCaps(GstPad* pad, GstPadProbeInfo* info, gpointer) {
    int width = 0;
    int height = 0;
    double fps = 0;
    if (!videoSizeOf(GST_PAD_PROBE_INFO_EVENT(info), width, height, fps)) {
        return GST_PAD_PROBE_OK;
    }
    if (GstElement* encoder = gst_pad_get_parent_element(pad)) {
        g_object_set(encoder, "bitrate",
                     guint(defaultBitrateKbps(std::uint32_t(width), std::uint32_t(height), fps)),
                     nullptr);
        gst_object_unref(encoder);
    }
    return GST_PAD_PROBE_OK;
}

// 4:2:0 encoders refuse odd sizes, which shmframe allows for RGB formats: crop the
// last column or row. Set before the caps reach the crop element, so it applies to them.
GstPadProbeReturn onCropCaps(GstPad* pad, GstPadProbeInfo* info, gpointer) {
    int width = 0;
    int height = 0;
    double fps = 0;
    if (!videoSizeOf(GST_PAD_PROBE_INFO_EVENT(info), width, height, fps)) {
        return GST_PAD_PROBE_OK;
    }
    if (GstElement* crop = gst_pad_get_parent_element(pad)) {
        g_object_set(crop, "right", gint(width & 1), "bottom", gint(height & 1), nullptr);
        gst_object_unref(crop);
    }
    return GST_PAD_PROBE_OK;
}

void addEventProbe(GstElement* pipeline, const char* elementName, const char* padName,
                   GstPadProbeCallback callback, gpointer data, GDestroyNotify destroy) {
    GstElement* element = gst_bin_get_by_name(GST_BIN(pipeline), elementName);
    GstPad* pad = element ? gst_element_get_static_pad(element, padName) : nullptr;
    if (pad) {
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, callback, data, destroy);
        gst_object_unref(pad);
    } else if (destroy) {
        destroy(data);
    }
    if (element) {
        gst_object_unref(element);
    }
}

// gst-rtsp-server keeps a media's errors to its debug log; the operator should see
// them. Once per media: a broken stream posts many.
struct ErrorReport {
    std::string feed;
    std::atomic<bool> reported{false};
};

void deleteErrorReport(gpointer data) {
    delete static_cast<ErrorReport*>(data);
}

GstBusSyncReply onMediaMessage(GstBus*, GstMessage* message, gpointer data) {
    auto* report = static_cast<ErrorReport*>(data);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR && !report->reported.exchange(true)) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        g_printerr("shmframe serve: error: the stream of feed '%s' failed: %s (%s)\n",
                   report->feed.c_str(), error ? error->message : "?", debug ? debug : "");
        g_clear_error(&error);
        g_free(debug);
    }
    return GST_BUS_PASS;
}

struct MediaHooks {
    std::string feed;
    EndedFlag ended;
    bool followBitrate = false;
};

void deleteMediaHooks(gpointer data, GClosure*) {
    delete static_cast<MediaHooks*>(data);
}

void onMediaConfigure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer data) {
    const auto* hooks = static_cast<const MediaHooks*>(data);
    GstElement* element = gst_rtsp_media_get_element(media);
    if (!element) {
        return;
    }
    addEventProbe(element, "src", "src", onSourceEvent, new EndedFlag(hooks->ended),
                  deleteEndedFlag);
    addEventProbe(element, "even", "sink", onCropCaps, nullptr, nullptr);
    if (hooks->followBitrate) {
        addEventProbe(element, "encoder", "sink", onEncoderCaps, nullptr, nullptr);
    }
    if (GstObject* parent = gst_element_get_parent(element)) {
        if (GST_IS_PIPELINE(parent)) {
            // Frames come paced by their writer, stamped with their publish time. With
            // the latency the elements report (a frame period for shmframesrc, more for
            // the encoder) the sinks would hold each packet until then: about 50 ms
            // more from publish to client (measured, docs/scaling.md). Send at once.
            gst_pipeline_set_latency(GST_PIPELINE(parent), 0);
            GstBus* bus = gst_pipeline_get_bus(GST_PIPELINE(parent));
            gst_bus_set_sync_handler(bus, onMediaMessage, new ErrorReport{hooks->feed, {}},
                                     deleteErrorReport);
            gst_object_unref(bus);
        }
        gst_object_unref(parent);
    }
    gst_object_unref(element);
}

class Bridge {
  public:
    explicit Bridge(const ServeOptions& options)
        : options_(options), wanted_(options.feeds.begin(), options.feeds.end()) {}
    ~Bridge();
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    int run();

  private:
    struct Mount {
        GRef<GstRTSPMediaFactory> factory;
        EndedFlag ended;
        gint64 missingSinceUs = 0;  // when a listing first lacked the feed; 0: listed
    };

    Result<void> listen();
    Result<void> watchFeeds();
    void rescan();
    void rescanIn(std::chrono::milliseconds delay);
    void mount(const FeedInfo& feed, bool announce);
    void unmount(const std::string& name);
    void shutdown();
    std::string url(const std::string& feed) const;
    static void say(const std::string& line);

    static gboolean onFeedsChanged(gint fd, GIOCondition condition, gpointer self);
    static gboolean onStopSignal(gpointer self);

    ServeOptions options_;
    std::set<std::string> wanted_;
    std::set<std::string> announcedWaiting_;
    GMainLoop* loop_ = nullptr;
    GRef<GstRTSPServer> server_;
    GRef<GstRTSPMountPoints> mountPoints_;
    GRef<GstRTSPAddressPool> udpAddresses_;
    std::optional<FeedWatch> feeds_;  // the feed dir: feeds that come, change and go
    guint listenSource_ = 0;
    guint feedsSource_ = 0;
    guint graceTimer_ = 0;
    guint signalSources_[2] = {0, 0};
    int port_ = 0;
    std::map<std::string, Mount> mounts_;
};

Bridge::~Bridge() {
    for (guint* source :
         {&listenSource_, &feedsSource_, &graceTimer_, &signalSources_[0], &signalSources_[1]}) {
        if (*source) {
            g_source_remove(*source);
            *source = 0;
        }
    }
    if (loop_) {
        g_main_loop_unref(loop_);
    }
}

void Bridge::say(const std::string& line) {
    // One line per event, flushed at once: scripts and tests read it as it comes.
    std::cout << line << std::endl;
}

std::string Bridge::url(const std::string& feed) const {
    std::string host = options_.address;
    if (isWildcard(host)) {
        host = g_get_host_name();
    } else if (host.find(':') != std::string::npos && host.front() != '[') {
        host = "[" + host + "]";
    }
    return "rtsp://" + host + ":" + std::to_string(port_) + "/" + feed;
}

Result<void> Bridge::listen() {
    server_.reset(gst_rtsp_server_new());
    const std::string service = std::to_string(options_.port);
    gst_rtsp_server_set_address(server_.get(), options_.address.c_str());
    gst_rtsp_server_set_service(server_.get(), service.c_str());
    GError* error = nullptr;
    GSource* source = gst_rtsp_server_create_source(server_.get(), nullptr, &error);
    if (!source) {
        return Error::make(Errc::SystemError, "cannot listen on " + options_.address + " port " +
                                                  service + ": " + takeMessage(error) +
                                                  " (pick another --port, or 0 for a free one)");
    }
    listenSource_ = g_source_attach(source, nullptr);
    g_source_unref(source);
    port_ = gst_rtsp_server_get_bound_port(server_.get());
    if (port_ <= 0) {
        port_ = int(options_.port);
    }
    mountPoints_.reset(gst_rtsp_server_get_mount_points(server_.get()));

    // RTP over UDP: gst-rtsp-server binds its UDP ports to every interface unless an
    // address pool names one. Keep them on the address RTSP listens on.
    GRef<GInetAddress> inet(g_inet_address_new_from_string(options_.address.c_str()));
    if (inet && !g_inet_address_get_is_any(inet.get())) {
        udpAddresses_.reset(gst_rtsp_address_pool_new());
        gst_rtsp_address_pool_add_range(udpAddresses_.get(), options_.address.c_str(),
                                        options_.address.c_str(), kFirstUdpPort, kLastUdpPort, 0);
    }
    return {};
}

Result<void> Bridge::watchFeeds() {
    FeedWatchOptions watchOptions;
    watchOptions.rescanInterval = options_.rescanInterval;
    auto watch = FeedWatch::open(watchOptions);
    if (!watch) {
        return std::move(watch).error();
    }
    feeds_.emplace(std::move(*watch));
    feedsSource_ = g_unix_fd_add(feeds_->fd(), G_IO_IN, onFeedsChanged, this);
    return {};
}

gboolean Bridge::onFeedsChanged(gint, GIOCondition, gpointer self) {
    static_cast<Bridge*>(self)->rescan();
    return G_SOURCE_CONTINUE;
}

void Bridge::rescanIn(std::chrono::milliseconds delay) {
    if (graceTimer_) {
        g_source_remove(graceTimer_);
    }
    graceTimer_ = g_timeout_add(
        guint(delay.count()),
        [](gpointer self) -> gboolean {
            auto* bridge = static_cast<Bridge*>(self);
            bridge->graceTimer_ = 0;
            bridge->rescan();
            return G_SOURCE_REMOVE;
        },
        this);
}

gboolean Bridge::onStopSignal(gpointer self) {
    g_main_loop_quit(static_cast<Bridge*>(self)->loop_);
    return G_SOURCE_CONTINUE;
}

void Bridge::rescan() {
    std::map<std::string, FeedInfo> live;
    feeds_->update();
    for (FeedInfo feed : feeds_->feeds()) {
        // A feed at end of stream has nothing more to send; its media would end at once.
        if (feed.endOfStream || !validateFeedName(feed.name) || feed.name.front() == '/') {
            continue;
        }
        if (!wanted_.empty() && !wanted_.count(feed.name)) {
            continue;
        }
        std::string name = feed.name;
        live.emplace(std::move(name), std::move(feed));
    }
    for (auto it = mounts_.begin(); it != mounts_.end();) {
        const std::string name = it->first;
        ++it;
        Mount& mounted = mounts_[name];
        auto found = live.find(name);
        if (found == live.end()) {
            // A restarting writer leaves a gap: its socket is gone (or dead) until the
            // new one listens. Clients arriving then should not get "not found".
            const gint64 now = g_get_monotonic_time();
            if (!mounted.missingSinceUs) {
                mounted.missingSinceUs = now;
                rescanIn(kUnmountGrace);
            } else if (now - mounted.missingSinceUs >=
                       std::chrono::microseconds(kUnmountGrace).count()) {
                unmount(name);
                say("stopped " + url(name));
            }
            continue;
        }
        mounted.missingSinceUs = 0;
        if (mounted.ended->load()) {
            // The shared media ended with the writer's end of stream; clients already
            // on it got their EOS. A new factory gives the next client a new media.
            unmount(name);
            mount(found->second, false);
        }
    }
    for (const auto& [name, feed] : live) {
        if (!mounts_.count(name)) {
            mount(feed, true);
        }
    }
    for (const std::string& name : wanted_) {
        if (!live.count(name) && announcedWaiting_.insert(name).second) {
            std::cerr << "shmframe serve: waiting for a writer of feed '" << name << "'\n";
        }
    }
}

void Bridge::mount(const FeedInfo& feed, bool announce) {
    const Format& format = feed.format;
    const double fps = format.frameRate.toDouble();
    const std::string launch =
        serveLaunchLine(options_, feed.name, format.width, format.height, fps);
    GRef<GstRTSPMediaFactory> factory(gst_rtsp_media_factory_new());
    gst_rtsp_media_factory_set_launch(factory.get(), launch.c_str());
    // One pipeline (one encoder) per feed, whatever the number of clients.
    gst_rtsp_media_factory_set_shared(factory.get(), TRUE);
    if (udpAddresses_) {
        gst_rtsp_media_factory_set_address_pool(factory.get(), udpAddresses_.get());
    }
    EndedFlag ended = std::make_shared<std::atomic<bool>>(false);
    auto* hooks =
        new MediaHooks{feed.name, ended, options_.encoder.empty() && options_.bitrateKbps == 0};
    g_signal_connect_data(factory.get(), "media-configure", G_CALLBACK(onMediaConfigure), hooks,
                          deleteMediaHooks, GConnectFlags(0));

    const std::string path = "/" + feed.name;
    gst_rtsp_mount_points_add_factory(mountPoints_.get(), path.c_str(),
                                      GST_RTSP_MEDIA_FACTORY(g_object_ref(factory.get())));
    mounts_[feed.name] = Mount{std::move(factory), std::move(ended)};
    announcedWaiting_.erase(feed.name);
    if (announce) {
        say("serving " + url(feed.name));
    }
}

void Bridge::unmount(const std::string& name) {
    const std::string path = "/" + name;
    gst_rtsp_mount_points_remove_factory(mountPoints_.get(), path.c_str());
    mounts_.erase(name);
}

GstRTSPFilterResult removeClient(GstRTSPServer*, GstRTSPClient*, gpointer) {
    return GST_RTSP_FILTER_REMOVE;
}

GstRTSPFilterResult removeSession(GstRTSPSessionPool*, GstRTSPSession*, gpointer) {
    return GST_RTSP_FILTER_REMOVE;
}

void Bridge::shutdown() {
    // No more listings: the loop runs a little longer below, only to close clients.
    for (guint* source : {&feedsSource_, &graceTimer_}) {
        if (*source) {
            g_source_remove(*source);
            *source = 0;
        }
    }
    for (auto it = mounts_.begin(); it != mounts_.end();) {
        const std::string name = it->first;
        ++it;
        unmount(name);
    }
    if (!server_) {
        return;
    }
    // Close the connections and tear the sessions down, so every media pipeline
    // stops and its readers leave their writers now rather than at exit.
    GList* clients = gst_rtsp_server_client_filter(server_.get(), removeClient, nullptr);
    g_list_free_full(clients, g_object_unref);
    GRef<GstRTSPSessionPool> pool(gst_rtsp_server_get_session_pool(server_.get()));
    if (pool) {
        GList* sessions = gst_rtsp_session_pool_filter(pool.get(), removeSession, nullptr);
        g_list_free_full(sessions, g_object_unref);
    }
    // Let the closing connections finish on this loop, for a bounded moment.
    const gint64 deadline = g_get_monotonic_time() + 300 * G_TIME_SPAN_MILLISECOND;
    while (g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(nullptr, FALSE)) {
            g_usleep(10 * 1000);
        }
    }
}

int Bridge::run() {
    if (auto elements = checkElements(options_); !elements) {
        return reportError(kCommand, elements.error());
    }
    auto directory = ensureFeedDirectory();
    if (!directory) {
        return reportError(kCommand, directory.error());
    }
    loop_ = g_main_loop_new(nullptr, FALSE);
    if (auto listening = listen(); !listening) {
        return reportError(kCommand, listening.error());
    }
    say("listening on " + url("") + " (feeds of " + *directory + ")");
    if (auto watching = watchFeeds(); !watching) {
        return reportError(kCommand, watching.error());
    }
    signalSources_[0] = g_unix_signal_add(SIGINT, onStopSignal, this);
    signalSources_[1] = g_unix_signal_add(SIGTERM, onStopSignal, this);
    rescan();
    g_main_loop_run(loop_);
    shutdown();
    return kExitOk;
}

}  // namespace

std::uint32_t defaultBitrateKbps(std::uint32_t width, std::uint32_t height, double fps) {
    if (!(fps > 0)) {
        fps = 30.0;
    }
    const double kbps = 0.1 * double(width) * double(height) * fps / 1000.0;
    return std::uint32_t(std::clamp(std::lround(kbps), 256L, 20000L));
}

std::string serveLaunchLine(const ServeOptions& options, const std::string& feed,
                            std::uint32_t width, std::uint32_t height, double fps) {
    const std::string source =
        "shmframesrc name=src feed=" + feed + " ! videoconvert ! videocrop name=even ! ";
    if (!options.encoder.empty()) {
        return "( " + source + options.encoder + " )";
    }
    // A key frame every second: a client joining the shared stream waits at most that.
    const long keyInterval = fps > 0 ? std::clamp(std::lround(fps), 1L, 300L) : 30L;
    const std::uint32_t bitrate =
        options.bitrateKbps ? options.bitrateKbps : defaultBitrateKbps(width, height, fps);
    return "( " + source +
           "video/x-raw,format=I420 ! x264enc name=encoder tune=zerolatency "
           "speed-preset=ultrafast key-int-max=" +
           std::to_string(keyInterval) + " bitrate=" + std::to_string(bitrate) +
           " ! rtph264pay name=pay0 pt=96 config-interval=1 )";
}

int runRtspBridge(const ServeOptions& options) {
    gst_init(nullptr, nullptr);
    Bridge bridge(options);
    return bridge.run();
}

}  // namespace shmframe::cli
