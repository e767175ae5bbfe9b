// SPDX-License-Identifier: LGPL-2.1-or-later
// GStreamer transports side by side, measured identically: a live videotestsrc feeds
// the sender's sink; a pad probe on the element feeding the sink stamps each frame in
// its pixels (time, index) just before the sink gets it; in the receiver, a probe on
// the final fakesink's sink pad reads the stamp as the first read of the pixels.
// Sender and receiver are separate processes (this program started twice); the
// in-process `queue` hand-off is the floor, measured with the same two probes.
//
// A second sender decodes an H.264 clip (the most common thing upstream of a frame
// transport); the stamp then goes into the decoder's output, where stock shmsink must
// copy and shmframesink need not. Several receivers of one sender measure fan-out.
//
//   shmframe_bench_gst pair  --transport shmframe|shm|tcp --width W --height H
//                            [--format RGBA|NV12|I420] --fps F --frames N --warmup W --run R
//                            [--source test|h264 --clip FILE] [--readers N] [--series S]
//   shmframe_bench_gst clip  --width W --height H --fps F --frames N --out FILE
//                            (an H.264 MP4 for --source h264)
//   shmframe_bench_gst queue --width W --height H [--format F] --fps F --frames N
//                            --warmup W --run R
//   shmframe_bench_gst check           (which elements exist, as JSON)
//   shmframe_bench_gst send|recv ...   (started by `pair`)
#include <dirent.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "bench_common.h"

namespace shmframe::bench {
namespace {

constexpr std::uint64_t kMs = 1'000'000ull;
constexpr std::uint64_t kSecond = 1'000'000'000ull;

const char* const kElements[] = {"videotestsrc",  "capsfilter",   "queue",        "fakesink",
                                 "shmframesink",  "shmframesrc",  "shmsink",      "shmsrc",
                                 "tcpserversink", "tcpclientsrc", "rawvideoparse"};

bool hasElement(const char* name) {
    GstElementFactory* factory = gst_element_factory_find(name);
    if (!factory) {
        return false;
    }
    gst_object_unref(factory);
    return true;
}

std::string missingElements(std::initializer_list<const char*> names) {
    std::string missing;
    for (const char* name : names) {
        if (!hasElement(name)) {
            missing += (missing.empty() ? "" : ", ") + std::string(name);
        }
    }
    return missing;
}

std::string capsString(const FrameSpec& spec, std::uint32_t fps) {
    return "video/x-raw,format=" + spec.format + ",width=" + std::to_string(spec.width) +
           ",height=" + std::to_string(spec.height) + ",framerate=" + std::to_string(fps) + "/1";
}

// Where a sender's frames come from: a live test source, or an H.264 clip decoded and
// paced at its frame rate.
struct Source {
    std::string kind = "test";  // or "h264"
    std::string clip;
};

// The sending half every transport shares: the source, then the element whose src pad
// we stamp on ("feed"), then the transport's sink.
std::string sourceChain(const FrameSpec& spec, std::uint32_t fps, const Source& source) {
    if (source.kind == "h264") {
        return "filesrc location=\"" + source.clip +
               "\" ! qtdemux ! h264parse ! avdec_h264 ! identity sync=true ! "
               "capsfilter name=feed caps=\"" +
               capsString(spec, fps) + "\"";
    }
    return "videotestsrc is-live=true pattern=solid-color foreground-color=0xff336699 ! "
           "capsfilter name=feed caps=\"" +
           capsString(spec, fps) + "\"";
}

std::optional<Source> sourceFromArgs(Args& args) {
    Source source;
    source.kind = args.text("source", "test");
    if (source.kind == "h264") {
        source.clip = args.text("clip");
    } else if (source.kind != "test") {
        std::cerr << "--source must be test or h264, got '" << source.kind << "'\n";
        return std::nullopt;
    }
    return source;
}

// One measurement's state, shared with the probes (streaming threads).
struct Probes {
    // sender
    std::atomic<std::uint64_t> stamped{0};
    bool stampInPlace = false;  // the buffer may be shared: see stampProbe
    // receiver
    std::mutex mutex;
    std::vector<double> samples;
    // shmframe only: each sample split at the writer's publish time (the source puts it
    // on the buffer as a reference timestamp): stamp -> publish, publish -> probe.
    std::vector<double> beforePublish, afterPublish;
    std::uint64_t warmup = 0;
    std::uint64_t frames = 0;
    std::optional<std::uint64_t> firstIndex;  // of the first frame this receiver saw
    std::uint64_t seen = 0;
    std::uint64_t badStamps = 0;
    std::uint64_t firstNs = 0, lastNs = 0;
    Usage usageStart, usageEnd;
    bool finished = false;
    GMainLoop* loop = nullptr;
};

GstPadProbeReturn stampProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* probes = static_cast<Probes*>(data);
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buffer) {
        return GST_PAD_PROBE_OK;
    }
    if (probes->stampInPlace) {
        // A decoder keeps its output as a reference picture (a second ref), so making
        // it writable would copy it here and hide whether the sink copies. The stamp
        // goes into the decoded pixels in place: it only disturbs the 16 bytes that
        // later pictures may predict from, which nothing measures.
        GstMapInfo map;
        if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
            if (map.size >= kStampBytes) {
                writeStamp(reinterpret_cast<std::byte*>(const_cast<guint8*>(map.data)),
                           probes->stamped.load());
                probes->stamped.fetch_add(1);
            }
            gst_buffer_unmap(buffer, &map);
        }
        return GST_PAD_PROBE_OK;
    }
    // The source's buffer is ours alone (refcount 1), so this does not copy.
    buffer = gst_buffer_make_writable(buffer);
    GST_PAD_PROBE_INFO_DATA(info) = buffer;
    GstMapInfo map;
    if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
        if (map.size >= kStampBytes) {
            writeStamp(reinterpret_cast<std::byte*>(map.data), probes->stamped.load());
            probes->stamped.fetch_add(1);
        }
        gst_buffer_unmap(buffer, &map);
    }
    return GST_PAD_PROBE_OK;
}

// The writer's publish time (CLOCK_MONOTONIC ns) that shmframesrc puts on each buffer.
// Runs in the receiver's measured CPU time, so it compares the reference's name (a
// quark) rather than calling gst_buffer_get_reference_timestamp_meta(), which does a
// caps subset test per meta.
std::optional<std::uint64_t> publishTimeOf(GstBuffer* buffer) {
    static const GQuark name = g_quark_from_static_string("timestamp/x-shmframe-publish-monotonic");
    gpointer iter = nullptr;
    while (GstMeta* meta = gst_buffer_iterate_meta_filtered(
               buffer, &iter, GST_REFERENCE_TIMESTAMP_META_API_TYPE)) {
        const auto* stamp = reinterpret_cast<GstReferenceTimestampMeta*>(meta);
        if (gst_caps_get_size(stamp->reference) == 1 &&
            gst_structure_get_name_id(gst_caps_get_structure(stamp->reference, 0)) == name) {
            if (!GST_CLOCK_TIME_IS_VALID(stamp->timestamp)) {
                return std::nullopt;
            }
            return stamp->timestamp;
        }
    }
    return std::nullopt;
}

GstPadProbeReturn readProbe(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* probes = static_cast<Probes*>(data);
    GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buffer) {
        return GST_PAD_PROBE_OK;
    }
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        return GST_PAD_PROBE_OK;
    }
    // The stamp is the first thing read of the frame's pixels.
    const auto read = map.size >= kStampBytes
                          ? readStamp(reinterpret_cast<const std::byte*>(map.data))
                          : std::nullopt;
    const std::uint64_t now = nowNs();
    gst_buffer_unmap(buffer, &map);

    std::lock_guard lock(probes->mutex);
    if (probes->finished) {
        return GST_PAD_PROBE_OK;
    }
    if (!read) {
        ++probes->badStamps;
        return GST_PAD_PROBE_OK;
    }
    const Stamp stamp = *read;
    if (!probes->firstIndex) {
        probes->firstIndex = stamp.index;
    }
    // The window is fixed by frame index, so frames lost inside it show as missing.
    const std::uint64_t begin = *probes->firstIndex + probes->warmup;
    const std::uint64_t end = begin + probes->frames;
    if (stamp.index < begin) {
        return GST_PAD_PROBE_OK;
    }
    if (stamp.index < end) {
        if (probes->samples.empty()) {
            probes->usageStart = processUsage();
            probes->firstNs = now;
        }
        probes->samples.push_back(double(now - stamp.timeNs) / 1000.0);
        if (const auto published = publishTimeOf(buffer);
            published && *published >= stamp.timeNs && *published <= now) {
            probes->beforePublish.push_back(double(*published - stamp.timeNs) / 1000.0);
            probes->afterPublish.push_back(double(now - *published) / 1000.0);
        }
        probes->lastNs = now;
    }
    if (stamp.index + 1 >= end) {
        probes->usageEnd = processUsage();
        probes->finished = true;
        g_main_loop_quit(probes->loop);
    }
    return GST_PAD_PROBE_OK;
}

bool addProbe(GstElement* pipeline, const char* element, const char* pad,
              GstPadProbeCallback callback, Probes* probes) {
    GstElement* found = gst_bin_get_by_name(GST_BIN(pipeline), element);
    if (!found) {
        return false;
    }
    GstPad* target = gst_element_get_static_pad(found, pad);
    gst_object_unref(found);
    if (!target) {
        return false;
    }
    gst_pad_add_probe(target, GST_PAD_PROBE_TYPE_BUFFER, callback, probes, nullptr);
    gst_object_unref(target);
    return true;
}

// Watches the bus: an error ends the run with its message.
struct BusWatch {
    std::string error;
    GMainLoop* loop = nullptr;
};

gboolean onBusMessage(GstBus*, GstMessage* message, gpointer data) {
    auto* watch = static_cast<BusWatch*>(data);
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        gst_message_parse_error(message, &error, &debug);
        watch->error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                       (error ? error->message : "error");
        g_clear_error(&error);
        g_free(debug);
        g_main_loop_quit(watch->loop);
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
        g_main_loop_quit(watch->loop);
    }
    return TRUE;
}

// Stays installed (quitting twice is harmless), so that its owner removes it exactly once.
gboolean quitLoop(gpointer data) {
    g_main_loop_quit(static_cast<GMainLoop*>(data));
    return G_SOURCE_CONTINUE;
}

// A pipeline with a main loop, a bus watch, a deadline and SIGTERM handling.
class Pipeline {
  public:
    explicit Pipeline(const std::string& description) {
        loop_ = g_main_loop_new(nullptr, FALSE);
        bus_.loop = loop_;
        GError* error = nullptr;
        pipeline_ = gst_parse_launch(description.c_str(), &error);
        if (error) {
            parseError_ = error->message;
            g_clear_error(&error);
        }
        if (pipeline_) {
            GstBus* bus = gst_element_get_bus(pipeline_);
            busWatch_ = gst_bus_add_watch(bus, onBusMessage, &bus_);
            gst_object_unref(bus);
        }
        signalWatch_ = g_unix_signal_add(SIGTERM, quitLoop, loop_);
    }
    ~Pipeline() {
        if (pipeline_) {
            gst_element_set_state(pipeline_, GST_STATE_NULL);
            gst_object_unref(pipeline_);
        }
        if (busWatch_) {
            g_source_remove(busWatch_);
        }
        g_source_remove(signalWatch_);
        g_main_loop_unref(loop_);
    }
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    GstElement* get() const { return pipeline_; }
    GMainLoop* loop() const { return loop_; }
    const std::string& parseError() const { return parseError_; }
    const std::string& error() const { return bus_.error; }
    bool play() {
        return gst_element_set_state(pipeline_, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
    }
    void stop() { gst_element_set_state(pipeline_, GST_STATE_NULL); }
    // Runs the loop until quit, an error, SIGTERM or the deadline.
    void run(std::uint64_t timeoutMs) {
        const guint timer = g_timeout_add(guint(timeoutMs), quitLoop, loop_);
        g_main_loop_run(loop_);
        g_source_remove(timer);
    }

  private:
    GstElement* pipeline_ = nullptr;
    GMainLoop* loop_ = nullptr;
    BusWatch bus_;
    guint busWatch_ = 0;
    guint signalWatch_ = 0;
    std::string parseError_;
};

double structureNumber(const GstStructure* structure, const char* field) {
    const GValue* value = gst_structure_get_value(structure, field);
    if (!value) {
        return -1;
    }
    if (G_VALUE_HOLDS_UINT64(value)) {
        return double(g_value_get_uint64(value));
    }
    if (G_VALUE_HOLDS_UINT(value)) {
        return double(g_value_get_uint(value));
    }
    if (G_VALUE_HOLDS_INT(value)) {
        return double(g_value_get_int(value));
    }
    return -1;
}

// A counter from an element's read-only `stats` structure (our elements), or -1.
double elementStat(GstElement* pipeline, const char* element, const char* field) {
    GstElement* found = gst_bin_get_by_name(GST_BIN(pipeline), element);
    if (!found) {
        return -1;
    }
    double result = -1;
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(found), "stats")) {
        GstStructure* stats = nullptr;
        g_object_get(found, "stats", &stats, nullptr);
        if (stats) {
            result = structureNumber(stats, field);
            gst_structure_free(stats);
        }
    }
    gst_object_unref(found);
    return result;
}

struct Transport {
    std::string name;
    std::string label;
    std::vector<const char*> elements;
};

std::optional<Transport> transportByName(const std::string& name) {
    if (name == "shmframe") {
        return Transport{name, "shmframesink -> shmframesrc", {"shmframesink", "shmframesrc"}};
    }
    if (name == "shm") {
        return Transport{name, "shmsink -> shmsrc", {"shmsink", "shmsrc"}};
    }
    if (name == "tcp") {
        return Transport{name,
                         "tcpserversink -> tcpclientsrc",
                         {"tcpserversink", "tcpclientsrc", "rawvideoparse"}};
    }
    return std::nullopt;
}

std::string senderPipeline(const std::string& transport, const FrameSpec& spec, std::uint32_t fps,
                           const Source& from, std::uint32_t readers, const std::string& path) {
    const std::string source = sourceChain(spec, fps, from) + " ! ";
    if (transport == "shmframe") {
        return source + "shmframesink name=sink feed=" + path + " sync=false";
    }
    if (transport == "shm") {
        // Room for four frames and one per reader, so a reader holding one never
        // blocks the writer.
        return source + "shmsink name=sink socket-path=" + path +
               " shm-size=" + std::to_string(packedFrameBytes(spec) * (4 + readers) + 4096) +
               " wait-for-connection=false sync=false";
    }
    // A client more than 8 frames behind is resynced to the newest frame (counted as
    // lost), instead of the server queueing without bound.
    return source +
           "tcpserversink name=sink host=127.0.0.1 port=0 sync=false "
           "recover-policy=latest units-soft-max=8";
}

std::string receiverPipeline(const std::string& transport, const FrameSpec& spec, std::uint32_t fps,
                             const std::string& path, std::uint32_t port) {
    const std::string sink = " ! fakesink name=out sync=false";
    if (transport == "shmframe") {
        return "shmframesrc name=src feed=" + path + sink;
    }
    if (transport == "shm") {
        return "shmsrc name=src socket-path=" + path +
               " is-live=true do-timestamp=true ! capsfilter caps=\"" + capsString(spec, fps) +
               "\"" + sink;
    }
    std::string lower = spec.format;
    for (char& c : lower) {
        c = char(std::tolower(c));
    }
    return "tcpclientsrc name=src host=127.0.0.1 port=" + std::to_string(port) +
           " blocksize=" + std::to_string(packedFrameBytes(spec)) +
           " ! rawvideoparse use-sink-caps=false format=" + lower +
           " width=" + std::to_string(spec.width) + " height=" + std::to_string(spec.height) +
           " framerate=" + std::to_string(fps) + "/1" + sink;
}

Json receiverResult(Probes& probes, const std::string& ending) {
    std::lock_guard lock(probes.mutex);
    if (probes.usageEnd.cpuNs == 0) {
        probes.usageEnd = processUsage();  // the window did not close: count up to now
    }
    const double intervals = probes.samples.size() > 1 ? double(probes.samples.size() - 1) : 1.0;
    const double windowS = double(probes.lastNs - probes.firstNs) / 1e9;
    Json out = {
        {"ending", ending},
        {"received", probes.samples.size()},
        {"bad_stamps", probes.badStamps},
        {"fps", windowS > 0 ? double(probes.samples.size() - 1) / windowS : 0.0},
        {"cpu_us", double(probes.usageEnd.cpuNs - probes.usageStart.cpuNs) / 1000.0 / intervals},
        {"minflt", double(probes.usageEnd.minorFaults - probes.usageStart.minorFaults) / intervals},
        {"majflt", double(probes.usageEnd.majorFaults - probes.usageStart.majorFaults) / intervals},
        {"samples", Json::array()}};
    for (double sample : probes.samples) {
        out["samples"].push_back(double(std::llround(sample * 1000.0)) / 1000.0);
    }
    if (!probes.beforePublish.empty()) {
        out["before_publish_p50"] = summarize(probes.beforePublish).p50;
        out["after_publish_p50"] = summarize(probes.afterPublish).p50;
    }
    return out;
}

// --- the two processes of a pair --------------------------------------------------------

int runSender(Args& args) {
    const std::string transport = args.text("transport");
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 1000));
    const std::string path = args.text("path");
    const std::uint64_t timeoutMs = args.number("timeout-ms", 100, 3'600'000);
    const auto source = sourceFromArgs(args);
    const std::uint32_t readers = std::uint32_t(args.number("readers", 1, 8, 1));
    args.finish();
    if (!source) {
        return 2;
    }
    Pipeline pipeline(senderPipeline(transport, spec, fps, *source, readers, path));
    if (!pipeline.get()) {
        emit(Json{{"error", "sender pipeline: " + pipeline.parseError()}});
        return 1;
    }
    Probes probes;
    probes.stampInPlace = source->kind == "h264";
    if (!addProbe(pipeline.get(), "feed", "src", stampProbe, &probes) || !pipeline.play()) {
        emit(Json{{"error", "sender pipeline does not start"}});
        return 1;
    }
    // Ready once frames flow (and, for TCP, the server has its port).
    struct Ready {
        Probes* probes;
        GstElement* pipeline;
        bool tcp;
        bool said = false;
        std::uint64_t stampedAtReady = 0;
        Usage usageAtReady;
    } ready{&probes, pipeline.get(), transport == "tcp", false, 0, {}};
    const guint readyTimer = g_timeout_add(
        10,
        [](gpointer data) -> gboolean {
            auto* state = static_cast<Ready*>(data);
            if (state->said || state->probes->stamped.load() == 0) {
                return G_SOURCE_CONTINUE;
            }
            int port = 0;
            if (state->tcp) {
                GstElement* sink = gst_bin_get_by_name(GST_BIN(state->pipeline), "sink");
                g_object_get(sink, "current-port", &port, nullptr);
                gst_object_unref(sink);
                if (port <= 0) {
                    return G_SOURCE_CONTINUE;
                }
            }
            state->said = true;
            state->stampedAtReady = state->probes->stamped.load();
            state->usageAtReady = processUsage();
            emit(Json{{"ready", true}, {"port", port}});
            return G_SOURCE_REMOVE;
        },
        &ready);
    pipeline.run(timeoutMs);
    if (!ready.said) {
        g_source_remove(readyTimer);
    }
    // Stopped by SIGTERM once the receiver has its frames: say what sending cost.
    const Usage usage = processUsage();
    const std::uint64_t stamped = probes.stamped.load() - ready.stampedAtReady;
    const double count = stamped ? double(stamped) : 1.0;
    Json out = {{"sent", stamped},
                {"error", pipeline.error()},
                {"cpu_us", double(usage.cpuNs - ready.usageAtReady.cpuNs) / 1000.0 / count},
                {"minflt", double(usage.minorFaults - ready.usageAtReady.minorFaults) / count},
                {"copied", elementStat(pipeline.get(), "sink", "copied")},
                {"published", elementStat(pipeline.get(), "sink", "published")}};
    emit(out);
    pipeline.stop();
    return 0;
}

int runReceiver(Args& args) {
    const std::string transport = args.text("transport");
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 1000));
    const std::string path = args.text("path");
    const std::uint32_t port = std::uint32_t(args.number("port", 0, 65535, 0));
    const std::uint64_t warmup = args.number("warmup", 0, 100'000);
    const std::uint64_t frames = args.number("frames", 1, 10'000'000);
    const std::uint64_t timeoutMs = args.number("timeout-ms", 100, 3'600'000);
    args.finish();
    Pipeline pipeline(receiverPipeline(transport, spec, fps, path, port));
    if (!pipeline.get()) {
        emit(Json{{"error", "receiver pipeline: " + pipeline.parseError()}});
        return 1;
    }
    Probes probes;
    probes.warmup = warmup;
    probes.frames = frames;
    probes.loop = pipeline.loop();
    probes.samples.resize(frames + 16);  // touched now: no page fault while measuring
    probes.samples.clear();
    if (!addProbe(pipeline.get(), "out", "sink", readProbe, &probes) || !pipeline.play()) {
        emit(Json{{"error", "receiver pipeline does not start"}});
        return 1;
    }
    pipeline.run(timeoutMs);
    std::string ending;
    {
        std::lock_guard lock(probes.mutex);
        ending = probes.finished             ? "complete"
                 : !pipeline.error().empty() ? pipeline.error()
                                             : "timeout";
        probes.finished = true;
    }
    Json out = receiverResult(probes, ending);
    out["copies"] = elementStat(pipeline.get(), "src", "copies");
    out["layout_copies"] = elementStat(pipeline.get(), "src", "layout-copies");
    emit(out);
    pipeline.stop();
    return 0;
}

// Removes the POSIX shm segments ("/dev/shm/shmpipe.<pid>.<n>") a stock shmsink left
// behind when it had to be killed; only those of the given pid, which was ours.
void removeShmsinkLeftovers(pid_t pid) {
    DIR* dir = ::opendir("/dev/shm");
    if (!dir) {
        return;
    }
    while (const dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name.rfind("shmpipe.", 0) != 0) {
            continue;
        }
        const std::string rest = name.substr(8);
        const auto dot = rest.find('.');
        if (dot == std::string::npos) {
            continue;
        }
        std::string pidText = rest.substr(0, dot);
        pidText.erase(0, pidText.find_first_not_of(' '));
        if (pidText == std::to_string(pid)) {
            ::unlink(("/dev/shm/" + name).c_str());
        }
    }
    ::closedir(dir);
}

int runPair(Args& args) {
    const std::string transportName = args.text("transport");
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 1000));
    const std::uint64_t frames = args.number("frames", 10, 1'000'000);
    const std::uint64_t warmup = args.number("warmup", 0, 10'000, 15);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    const std::uint32_t readers = std::uint32_t(args.number("readers", 1, 8, 1));
    const auto source = sourceFromArgs(args);
    const std::string series = args.text("series", "gst-" + transportName);
    args.finish();
    const auto transport = transportByName(transportName);
    if (!transport) {
        std::cerr << "--transport must be shmframe, shm or tcp, got '" << transportName << "'\n";
        return 2;
    }
    if (!source) {
        return 2;
    }
    std::string label = transport->label;
    if (source->kind == "h264") {
        label = "avdec_h264 -> " + label;
    }
    if (readers > 1) {
        label += ", " + std::to_string(readers) + " receivers";
    }
    Json record = {{"series", series},      {"group", "gst"},        {"transport", label},
                   {"mode", "gst"},         {"format", spec.format}, {"width", spec.width},
                   {"height", spec.height}, {"run", runIndex},       {"readers", readers},
                   {"fps_target", fps}};
    std::vector<const char*> needed = {"capsfilter", "fakesink"};
    if (source->kind == "h264") {
        needed.insert(needed.end(), {"filesrc", "qtdemux", "h264parse", "avdec_h264", "identity"});
    } else {
        needed.push_back("videotestsrc");
    }
    needed.insert(needed.end(), transport->elements.begin(), transport->elements.end());
    std::string missing;
    for (const char* name : needed) {
        if (!hasElement(name)) {
            missing += (missing.empty() ? "" : ", ") + std::string(name);
        }
    }
    if (!missing.empty()) {
        emit(skipped(record, "GStreamer element(s) not found: " + missing +
                                 (transport->name == "shmframe"
                                      ? " (is GST_PLUGIN_PATH set to <build>/plugins?)"
                                      : "")));
        return 0;
    }
    if (source->kind == "h264" && !std::filesystem::exists(source->clip)) {
        emit(skipped(record, "no clip " + source->clip + " (made by `shmframe_bench_gst clip`)"));
        return 0;
    }

    std::string dir = (std::filesystem::temp_directory_path() / "shmframe-bench-gst-XXXXXX");
    if (!::mkdtemp(dir.data())) {
        emit(skipped(record, "could not create a temporary dir"));
        return 0;
    }
    ::setenv("SHMFRAME_DIR", dir.c_str(), 1);
    const std::string path = transport->name == "shmframe" ? "bench" : dir + "/shm.sock";
    const std::uint64_t runMs = (warmup + frames) * 1000 / fps;
    const std::uint64_t timeoutMs = runMs + 30'000;
    const std::vector<std::string> common = {"--transport", transport->name,
                                             "--format",    spec.format,
                                             "--width",     std::to_string(spec.width),
                                             "--height",    std::to_string(spec.height),
                                             "--fps",       std::to_string(fps),
                                             "--path",      path};

    auto finish = [&](Json result) {
        emit(result);
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
        return 0;
    };

    std::vector<std::string> senderArgs = {"send"};
    senderArgs.insert(senderArgs.end(), common.begin(), common.end());
    senderArgs.insert(senderArgs.end(),
                      {"--timeout-ms", std::to_string(timeoutMs + 10'000), "--source", source->kind,
                       "--readers", std::to_string(readers)});
    if (source->kind == "h264") {
        senderArgs.insert(senderArgs.end(), {"--clip", source->clip});
    }
    auto sender = Child::spawnSelf(senderArgs);
    if (!sender) {
        return finish(skipped(record, "could not start the sender"));
    }
    const pid_t senderPid = sender->pid();
    auto readyLine = sender->readLine(nowNs() + 30 * kSecond);
    Json ready = readyLine ? Json::parse(*readyLine, nullptr, false) : Json();
    if (!ready.is_object() || !ready.contains("ready")) {
        sender->terminate(3000);
        removeShmsinkLeftovers(senderPid);
        return finish(skipped(
            record, "the sender did not start: " + (ready.is_object() && ready.contains("error")
                                                        ? ready["error"].dump()
                                                        : std::string("no frames"))));
    }
    std::vector<std::string> receiverArgs = {"recv"};
    receiverArgs.insert(receiverArgs.end(), common.begin(), common.end());
    receiverArgs.insert(
        receiverArgs.end(),
        {"--port", std::to_string(ready["port"].get<int>()), "--warmup", std::to_string(warmup),
         "--frames", std::to_string(frames), "--timeout-ms", std::to_string(timeoutMs)});
    std::vector<Child> receivers;
    for (std::uint32_t i = 0; i < readers; ++i) {
        auto receiver = Child::spawnSelf(receiverArgs);
        if (!receiver) {
            receivers.clear();  // each terminates its process
            sender->terminate(3000);
            removeShmsinkLeftovers(senderPid);
            return finish(skipped(record, "could not start receiver " + std::to_string(i + 1)));
        }
        receivers.push_back(std::move(*receiver));
    }
    std::vector<Json> results;
    for (Child& receiver : receivers) {
        auto line = receiver.readLine(nowNs() + (timeoutMs + 10'000) * kMs);
        results.push_back(line ? Json::parse(*line, nullptr, false) : Json());
        receiver.terminate(3000);
    }
    // SIGTERM lets the sender report its CPU and tear down cleanly (stock shmsink
    // unlinks its /dev/shm segment only then).
    ::kill(senderPid, SIGTERM);
    auto senderLine = sender->readLine(nowNs() + 5 * kSecond);
    sender->terminate(3000);
    removeShmsinkLeftovers(senderPid);

    // Every receiver's samples are pooled; CPU and copies are per receiver (mean, max).
    std::vector<double> samples;
    Json perReader = Json::array();
    double readerCpu = 0, readerMinflt = 0, readerMajflt = 0, fpsAchieved = 0, copies = 0,
           layoutCopies = 0, beforePublish = 0, afterPublish = 0;
    std::uint32_t split = 0;  // receivers that reported the split
    std::uint64_t badStamps = 0;
    std::string ending = "complete";
    for (const Json& result : results) {
        if (!result.is_object() || !result.contains("samples")) {
            return finish(skipped(record, "a receiver gave no result: " +
                                              (result.is_object() && result.contains("error")
                                                   ? result["error"].get<std::string>()
                                                   : std::string("timeout or crash"))));
        }
        auto own = result["samples"].get<std::vector<double>>();
        const Summary summary = summarize(own);
        perReader.push_back(Json{{"p50", summary.p50}, {"p99", summary.p99}});
        samples.insert(samples.end(), own.begin(), own.end());
        readerCpu += result["cpu_us"].get<double>() / readers;
        readerMinflt += result["minflt"].get<double>() / readers;
        readerMajflt += result["majflt"].get<double>() / readers;
        fpsAchieved += result["fps"].get<double>() / readers;
        copies = std::max(copies, result.value("copies", -1.0));
        layoutCopies = std::max(layoutCopies, result.value("layout_copies", -1.0));
        badStamps += result["bad_stamps"].get<std::uint64_t>();
        if (result.contains("before_publish_p50") && result.contains("after_publish_p50")) {
            beforePublish += result["before_publish_p50"].get<double>();
            afterPublish += result["after_publish_p50"].get<double>();
            ++split;
        }
        if (result["ending"] != "complete") {
            ending = result["ending"].get<std::string>();
        }
    }
    Json sent = senderLine ? Json::parse(*senderLine, nullptr, false) : Json::object();
    if (!sent.is_object()) {
        sent = Json::object();
    }
    const Summary latency = summarize(samples);
    const std::uint64_t expected = frames * readers;
    record["frames"] = expected;
    record["received"] = latency.count;
    record["lost"] = expected > latency.count ? expected - latency.count : 0;
    record["ending"] = ending;
    record["fps_achieved"] = fpsAchieved;
    record["latency_us"] = toJson(latency, true);
    record["reader_cpu_us"] = readerCpu;
    record["reader_minflt"] = readerMinflt;
    record["reader_majflt"] = readerMajflt;
    record["bad_stamps"] = badStamps;
    record["reader_copies"] = copies;
    record["reader_layout_copies"] = layoutCopies;
    record["writer_cpu_us"] = sent.value("cpu_us", -1.0);
    record["writer_minflt"] = sent.value("minflt", -1.0);
    record["sink_copied"] = sent.value("copied", -1.0);
    record["sink_published"] = sent.value("published", -1.0);
    if (split == readers) {
        // Where a shmframe pair's latency goes (p50 of each part, mean over receivers):
        // the sender's stamp probe to its publish, and the publish to the reader's probe.
        record["before_publish_p50_us"] = beforePublish / split;
        record["after_publish_p50_us"] = afterPublish / split;
    }
    if (readers > 1) {
        record["per_reader"] = perReader;
    }
    if (latency.count == 0) {
        return finish(skipped(record, "no frame arrived (" + ending + ")"));
    }
    return finish(record);
}

// An H.264 clip of moving test pictures for --source h264: x264 at its fastest, no
// B-frames (as a camera or a live encoder would send), a key frame every second.
int runClip(Args& args) {
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 1000));
    const std::uint64_t frames = args.number("frames", 1, 100'000);
    const std::string out = args.text("out");
    args.finish();
    if (const std::string missing =
            missingElements({"videotestsrc", "x264enc", "h264parse", "mp4mux", "filesink"});
        !missing.empty()) {
        emit(Json{{"error", "GStreamer element(s) not found: " + missing}});
        return 1;
    }
    const std::string partial = out + ".part";
    Pipeline pipeline(
        "videotestsrc num-buffers=" + std::to_string(frames) +
        " pattern=ball ! capsfilter caps=\"" +
        capsString(FrameSpec{"I420", spec.width, spec.height}, fps) +
        "\" ! x264enc speed-preset=ultrafast tune=zerolatency key-int-max=" + std::to_string(fps) +
        " ! h264parse ! mp4mux ! filesink location=\"" + partial + "\"");
    if (!pipeline.get() || !pipeline.play()) {
        emit(Json{{"error", "clip pipeline: " + pipeline.parseError()}});
        return 1;
    }
    pipeline.run(600'000);
    pipeline.stop();
    std::error_code error;
    if (!pipeline.error().empty() || !std::filesystem::exists(partial, error)) {
        std::filesystem::remove(partial, error);
        emit(Json{{"error", "clip pipeline: " + pipeline.error()}});
        return 1;
    }
    std::filesystem::rename(partial, out, error);
    emit(Json{{"clip", out}, {"frames", frames}});
    return error ? 1 : 0;
}

// --- the in-process floor ---------------------------------------------------------------

int runQueue(Args& args) {
    const FrameSpec spec = frameSpec(args);
    const std::uint32_t fps = std::uint32_t(args.number("fps", 1, 1000));
    const std::uint64_t frames = args.number("frames", 10, 1'000'000);
    const std::uint64_t warmup = args.number("warmup", 0, 10'000, 15);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    args.finish();
    Json record = {
        {"series", "gst-queue"}, {"group", "gst"},        {"transport", "in-process queue"},
        {"mode", "gst"},         {"format", spec.format}, {"width", spec.width},
        {"height", spec.height}, {"run", runIndex},       {"fps_target", fps}};
    if (const std::string missing =
            missingElements({"videotestsrc", "capsfilter", "queue", "fakesink"});
        !missing.empty()) {
        emit(skipped(record, "GStreamer element(s) not found: " + missing));
        return 0;
    }
    Pipeline pipeline(sourceChain(spec, fps, Source{}) + " ! queue ! fakesink name=out sync=false");
    if (!pipeline.get()) {
        emit(skipped(record, "pipeline: " + pipeline.parseError()));
        return 0;
    }
    Probes probes;
    probes.warmup = warmup;
    probes.frames = frames;
    probes.loop = pipeline.loop();
    if (!addProbe(pipeline.get(), "feed", "src", stampProbe, &probes) ||
        !addProbe(pipeline.get(), "out", "sink", readProbe, &probes) || !pipeline.play()) {
        emit(skipped(record, "the pipeline does not start"));
        return 0;
    }
    pipeline.run((warmup + frames) * 1000 / fps + 30'000);
    std::string ending;
    {
        std::lock_guard lock(probes.mutex);
        ending = probes.finished             ? "complete"
                 : !pipeline.error().empty() ? pipeline.error()
                                             : "timeout";
        probes.finished = true;
    }
    pipeline.stop();
    const Json result = receiverResult(probes, ending);
    std::vector<double> samples = result["samples"].get<std::vector<double>>();
    const Summary latency = summarize(samples);
    record["frames"] = frames;
    record["received"] = latency.count;
    record["lost"] = frames > latency.count ? frames - latency.count : 0;
    record["ending"] = ending;
    record["fps_achieved"] = result["fps"];
    record["latency_us"] = toJson(latency, true);
    // One process does both halves (and fills the frames): its CPU is reported whole.
    record["process_cpu_us"] = result["cpu_us"];
    record["reader_minflt"] = result["minflt"];
    emit(latency.count ? record : skipped(record, "no frame arrived (" + ending + ")"));
    return 0;
}

int runCheck() {
    Json found = Json::object();
    for (const char* name : kElements) {
        found[name] = hasElement(name);
    }
    emit(Json{{"gstreamer", gst_version_string()}, {"elements", found}});
    return 0;
}

}  // namespace
}  // namespace shmframe::bench

int main(int argc, char** argv) {
    using namespace shmframe::bench;
    const std::string command = argc > 1 ? argv[1] : "";
    Args args(argc, argv, 2);
    gst_init(nullptr, nullptr);
    if (command == "pair") {
        return runPair(args);
    }
    if (command == "check") {
        args.finish();
        return runCheck();
    }
    if (command == "send") {
        return runSender(args);
    }
    if (command == "recv") {
        return runReceiver(args);
    }
    if (command == "queue") {
        return runQueue(args);
    }
    if (command == "clip") {
        return runClip(args);
    }
    std::cerr << "usage: " << argv[0] << " pair|queue|clip|check --option value ...\n"
              << "(run by tests/bench/run.sh; see docs/benchmarks.md)\n";
    return 2;
}
