// SPDX-License-Identifier: LGPL-2.1-or-later
// Measures what `shmframe serve` costs and adds, for docs/scaling.md (run by
// measure_bridge.sh, not by ctest).
//
//   bridge_probe writer FEED WIDTHxHEIGHT FPS [FORMAT] [PATTERN]
//       publishes one of the CLI's test patterns (default moving; noise is the worst
//       case for an encoder) with the publish time (CLOCK_MONOTONIC,
//       ms) painted in the top rows as 32 black or white 32x32 blocks, which survive
//       H.264 at any sane bit rate; until SIGINT/SIGTERM.
//   bridge_probe client URL SECONDS [DECODER]
//       receives the stream over RTSP (TCP), decodes it (default avdec_h264), reads
//       the stamp of each frame and prints one line: frames received and decoded,
//       their rates, kbit/s of H.264, and latency from publish to decoded frame
//       (median, p95, max, ms). Same host, so one clock.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "patterns.h"
#include "shmframe/clock.h"
#include "shmframe/writer.h"

namespace {

constexpr int kBits = 32;
constexpr int kBlock = 32;

std::atomic<bool> stopFlag{false};

void onStop(int) {
    stopFlag = true;
}

int runWriter(const std::string& feed, const std::string& sizeText, int fps,
              const std::string& formatName, const std::string& patternName) {
    auto size = shmframe::parseSize(sizeText);
    auto pixelFormat = shmframe::pixelFormatFromString(formatName);
    auto pattern = shmframe::patterns::parsePattern(patternName);
    if (!size || !pixelFormat || !pattern || fps <= 0 || fps > 240 ||
        size->first < kBits * kBlock) {
        std::fprintf(stderr,
                     "bridge_probe writer: bad size (width >= %d), rate, format or pattern\n",
                     kBits * kBlock);
        return 2;
    }
    auto format = shmframe::Format::make(*pixelFormat, size->first, size->second, {fps, 1});
    if (!format) {
        std::fprintf(stderr, "bridge_probe writer: %s\n", format.error().message.c_str());
        return 2;
    }
    auto writer = shmframe::Writer::create(feed, *format);
    if (!writer) {
        std::fprintf(stderr, "bridge_probe writer: %s\n", writer.error().message.c_str());
        return 1;
    }
    // Frames are rendered ahead, so the writer costs a copy per frame and does not
    // compete with serve for the CPU. Eight frames look new to x264 ultrafast, which
    // references only the previous one.
    const shmframe::Format& layout = writer->format();
    const bool yuv =
        *pixelFormat == shmframe::PixelFormat::I420 || *pixelFormat == shmframe::PixelFormat::NV12;
    if (!yuv && layout.planes[0].stride < layout.width * 4u) {
        std::fprintf(stderr, "bridge_probe writer: use RGBA, BGRA, RGBx, BGRx, I420 or NV12\n");
        return 2;
    }
    constexpr int kCycle = 8;
    shmframe::patterns::PatternGenerator generator(*pattern, size->first, size->second);
    shmframe::patterns::RgbaImage image;
    std::vector<std::vector<std::byte>> cycle(kCycle);
    for (int i = 0; i < kCycle; ++i) {
        generator.render(std::uint64_t(i) * 7, image);
        // Grey under the stamp keeps its chroma neutral; only luma changes below.
        image.fillRect(0, 0, kBits * kBlock, kBlock, {128, 128, 128, 255});
        cycle[std::size_t(i)].resize(layout.frameSize);
        if (auto written = shmframe::patterns::writeBuffer(image, layout, cycle[std::size_t(i)]);
            !written) {
            std::fprintf(stderr, "bridge_probe writer: %s\n", written.error().message.c_str());
            return 1;
        }
    }
    const std::uint64_t periodNs = 1'000'000'000u / std::uint64_t(fps);
    std::uint64_t next = shmframe::monotonicNs();
    for (std::uint64_t index = 0; !stopFlag; ++index) {
        auto frame = writer->loan();
        if (frame) {
            const auto& source = cycle[index % kCycle];
            std::copy(source.begin(), source.end(), frame->bytes().begin());
            std::span<std::byte> plane = frame->plane(0);
            const std::size_t stride = layout.planes[0].stride;
            const std::uint32_t stampMs = std::uint32_t(shmframe::monotonicNs() / 1'000'000u);
            for (int bit = 0; bit < kBits; ++bit) {
                const bool one = (stampMs >> bit) & 1u;
                const auto level = std::byte(yuv ? (one ? 235 : 16) : (one ? 255 : 0));
                const std::size_t bytesPerPixel = yuv ? 1 : 4;
                for (int row = 0; row < kBlock; ++row) {
                    auto first =
                        plane.begin() + std::ptrdiff_t(std::size_t(row) * stride +
                                                       std::size_t(bit * kBlock) * bytesPerPixel);
                    std::fill(first, first + std::ptrdiff_t(kBlock * bytesPerPixel), level);
                }
            }
            (void)writer->publish(std::move(*frame), {});
        }
        next += periodNs;
        timespec deadline{time_t(next / 1'000'000'000u), long(next % 1'000'000'000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr);
    }
    return 0;
}

std::atomic<std::uint64_t> h264Bytes{0};
std::atomic<std::uint64_t> h264Frames{0};

// After h264parse, one buffer is one encoded frame (access unit).
GstPadProbeReturn countEncoded(GstPad*, GstPadProbeInfo* info, gpointer) {
    if (GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info)) {
        h264Bytes += gst_buffer_get_size(buffer);
        ++h264Frames;
    }
    return GST_PAD_PROBE_OK;
}

int runClient(const std::string& url, int seconds, const std::string& decoder) {
    const std::string description =
        "rtspsrc location=" + url +
        " latency=0 protocols=tcp ! rtph264depay ! h264parse name=parse ! "
        "video/x-h264,alignment=au ! " +
        decoder +
        " ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=sink sync=false "
        "max-buffers=8 drop=false";
    GError* error = nullptr;
    GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
    if (!pipeline) {
        std::fprintf(stderr, "bridge_probe client: %s\n", error ? error->message : "?");
        return 1;
    }
    g_clear_error(&error);
    GstElement* parse = gst_bin_get_by_name(GST_BIN(pipeline), "parse");
    GstPad* parseSrc = gst_element_get_static_pad(parse, "src");
    gst_pad_add_probe(parseSrc, GST_PAD_PROBE_TYPE_BUFFER, countEncoded, nullptr, nullptr);
    gst_object_unref(parseSrc);
    gst_object_unref(parse);
    GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
    gst_element_set_state(pipeline, GST_STATE_PLAYING);

    std::vector<double> latenciesMs;
    std::uint64_t frames = 0;
    std::uint64_t undecodable = 0;
    std::uint64_t firstNs = 0;
    std::uint64_t firstBytes = 0;
    std::uint64_t firstEncoded = 0;
    const std::uint64_t endNs =
        shmframe::monotonicNs() + std::uint64_t(seconds + 20) * 1'000'000'000u;
    std::uint64_t measureEndNs = 0;
    while (!stopFlag) {
        const std::uint64_t now = shmframe::monotonicNs();
        if (now > endNs || (measureEndNs && now > measureEndNs)) {
            break;
        }
        GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), GST_SECOND);
        if (!sample) {
            continue;
        }
        const std::uint64_t arrivalNs = shmframe::monotonicNs();
        const GstStructure* structure = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
        int width = 0;
        gst_structure_get_int(structure, "width", &width);
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        GstMapInfo map;
        if (width >= kBits * kBlock && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
            // GRAY8 rows are padded to 4 bytes.
            const std::size_t stride = (std::size_t(width) + 3u) & ~std::size_t(3);
            std::uint32_t stamp = 0;
            for (int bit = 0; bit < kBits; ++bit) {
                const std::size_t at =
                    std::size_t(kBlock / 2) * stride + std::size_t(bit * kBlock + kBlock / 2);
                if (at < map.size && map.data[at] > 128) {
                    stamp |= 1u << bit;
                }
            }
            gst_buffer_unmap(buffer, &map);
            const double latencyMs = double(std::uint32_t(arrivalNs / 1'000'000u) - stamp) + 0.0;
            if (!firstNs) {
                // Measure from the first frame on, for the asked seconds.
                firstNs = arrivalNs;
                firstBytes = h264Bytes;
                firstEncoded = h264Frames;
                measureEndNs = arrivalNs + std::uint64_t(seconds) * 1'000'000'000u;
            } else if (latencyMs >= 0 && latencyMs < 10'000) {
                latenciesMs.push_back(latencyMs);
                ++frames;
            } else {
                ++undecodable;
            }
        }
        gst_sample_unref(sample);
    }
    const double elapsed = firstNs ? double(shmframe::monotonicNs() - firstNs) / 1e9 : 0.0;
    const double kbps = elapsed > 0 ? double(h264Bytes - firstBytes) * 8.0 / 1000.0 / elapsed : 0;
    const double receivedFps = elapsed > 0 ? double(h264Frames - firstEncoded) / elapsed : 0;
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
    if (latenciesMs.empty()) {
        std::printf("frames=0 (nothing decodable within %d s)\n", seconds + 20);
        return 1;
    }
    std::sort(latenciesMs.begin(), latenciesMs.end());
    auto quantile = [&](double q) {
        return latenciesMs[std::min(latenciesMs.size() - 1,
                                    std::size_t(q * double(latenciesMs.size())))];
    };
    std::printf(
        "frames=%llu undecodable=%llu received_fps=%.1f fps=%.1f kbps=%.0f latency_ms_p50=%.0f "
        "p95=%.0f max=%.0f\n",
        static_cast<unsigned long long>(frames), static_cast<unsigned long long>(undecodable),
        receivedFps, double(frames) / elapsed, kbps, quantile(0.5), quantile(0.95),
        latenciesMs.back());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    signal(SIGINT, onStop);
    signal(SIGTERM, onStop);
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "writer" && argc >= 5 && argc <= 7) {
        return runWriter(argv[2], argv[3], std::atoi(argv[4]), argc >= 6 ? argv[5] : "RGBA",
                         argc >= 7 ? argv[6] : "moving");
    }
    if (mode == "client" && (argc == 4 || argc == 5)) {
        gst_init(&argc, &argv);
        return runClient(argv[2], std::max(1, std::atoi(argv[3])),
                         argc == 5 ? argv[4] : "avdec_h264");
    }
    std::fprintf(stderr,
                 "usage: bridge_probe writer FEED WIDTHxHEIGHT FPS [FORMAT] [PATTERN]\n"
                 "       bridge_probe client URL SECONDS [DECODER]\n");
    return 2;
}
