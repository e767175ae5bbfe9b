// SPDX-License-Identifier: LGPL-2.1-or-later
// camera_publisher: publishes an OpenCV VideoCapture (a V4L2 camera, a video file
// or a GStreamer pipeline) on a shmframe feed, capturing straight into the shared
// slots; or a moving synthetic scene with --synthetic when there is no camera.
//
//   camera_publisher cam0 --device 0 --size 1280x720 --fps 30
//   camera_publisher cam0 --file clip.mp4 --loop
//   camera_publisher cam0 --pipeline "videotestsrc ! videoconvert ! appsink"
//   camera_publisher cam0 --synthetic --format BGRx
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>

#include <shmframe/opencv.h>
#include <shmframe/shmframe.h>

namespace {

std::atomic<bool> stopFlag{false};
extern "C" void onStop(int) {
    stopFlag = true;
}

struct Options {
    std::string feed;
    int device = -1;
    std::string file;
    std::string pipeline;
    bool synthetic = false;
    bool loop = false;
    std::string size;
    std::string format = "BGR";
    double fps = 0;
    std::uint64_t frames = 0;
    std::uint32_t slots = 4;
    std::uint32_t waitReaders = 0;
};

// The moving scene of --synthetic, drawn with OpenCV straight into the slot.
// Frame n depends on n only, so tests can tell frames apart.
class SyntheticScene {
  public:
    SyntheticScene(int width, int height, int type) {
        cv::Mat bgr(height, width, CV_8UC3);
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(255 * x / width),
                                                    static_cast<uchar>(255 * y / height), 96);
            }
        }
        background_ = convert(bgr, type);
    }

    void draw(std::uint64_t index, cv::Mat& target) const {
        background_.copyTo(target);
        const double t = double(index) / 30.0;
        const cv::Point centre(
            static_cast<int>(target.cols * (0.5 + 0.35 * std::sin(t * 1.3))),
            static_cast<int>(target.rows * (0.5 + 0.35 * std::sin(t * 1.9 + 1.0))));
        const int radius = std::max(4, std::min(target.cols, target.rows) / 8);
        cv::circle(target, centre, radius, colour(target, 0, 128, 255), cv::FILLED, cv::LINE_AA);
        // A dark rim, so the ball stands out in any format (and to edge detectors).
        cv::circle(target, centre, radius, colour(target, 0, 0, 0), 3, cv::LINE_AA);
        cv::putText(target, "frame " + std::to_string(index), cv::Point(10, 30),
                    cv::FONT_HERSHEY_SIMPLEX, 0.8, colour(target, 255, 255, 255), 2);
    }

  private:
    static cv::Mat convert(const cv::Mat& bgr, int type) {
        cv::Mat out;
        if (type == CV_8UC4) {
            cv::cvtColor(bgr, out, cv::COLOR_BGR2BGRA);
        } else if (type == CV_8UC1) {
            cv::cvtColor(bgr, out, cv::COLOR_BGR2GRAY);
        } else {
            out = bgr;
        }
        return out;
    }
    static cv::Scalar colour(const cv::Mat& target, double b, double g, double r) {
        if (target.channels() == 1) {
            return cv::Scalar(0.114 * b + 0.587 * g + 0.299 * r);
        }
        return cv::Scalar(b, g, r, 255);
    }
    cv::Mat background_;
};

struct Counters {
    std::uint64_t published = 0;
    std::uint64_t inPlace = 0;    // the capture wrote straight into the slot
    std::uint64_t converted = 0;  // captured elsewhere, converted or copied into the slot
    std::uint64_t skipped = 0;    // no free slot
};

int fail(const std::string& message) {
    std::fprintf(stderr, "camera_publisher: error: %s\n", message.c_str());
    return 1;
}

// Puts a captured BGR image into the slot view, converting as the feed's format needs.
void storeCaptured(const cv::Mat& captured, cv::Mat& slot) {
    cv::Mat source = captured;
    if (source.cols != slot.cols || source.rows != slot.rows) {
        cv::resize(captured, source, slot.size());
    }
    if (source.channels() == slot.channels()) {
        source.copyTo(slot);
    } else if (slot.channels() == 4) {
        cv::cvtColor(source, slot,
                     source.channels() == 1 ? cv::COLOR_GRAY2BGRA : cv::COLOR_BGR2BGRA);
    } else if (slot.channels() == 1) {
        cv::cvtColor(source, slot,
                     source.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    } else {
        cv::cvtColor(source, slot,
                     source.channels() == 4 ? cv::COLOR_BGRA2BGR : cv::COLOR_GRAY2BGR);
    }
}

int run(const Options& options) {
    shmframe::PixelFormat pixelFormat;
    if (options.format == "BGR") {
        pixelFormat = shmframe::PixelFormat::BGR;
    } else if (options.format == "BGRx") {
        pixelFormat = shmframe::PixelFormat::BGRx;
    } else if (options.format == "GRAY8") {
        pixelFormat = shmframe::PixelFormat::GRAY8;
    } else {
        return fail("--format must be BGR, BGRx or GRAY8, not '" + options.format + "'");
    }
    if (options.fps < 0 || options.fps > 1000) {
        return fail("--fps must be between 0 (the source's rate) and 1000");
    }

    cv::VideoCapture capture;
    std::string source = "synthetic scene";
    if (!options.synthetic) {
        if (!options.file.empty()) {
            source = "file " + options.file;
            capture.open(options.file);
        } else if (!options.pipeline.empty()) {
            source = "pipeline " + options.pipeline;
            capture.open(options.pipeline, cv::CAP_GSTREAMER);
        } else {
            const int device = options.device < 0 ? 0 : options.device;
            source = "/dev/video" + std::to_string(device);
            capture.open(device, cv::CAP_V4L2);
        }
        if (!capture.isOpened()) {
            return fail("could not open " + source +
                        " (no camera? try --synthetic, --file or --pipeline)");
        }
    }

    // Size: --size, else the source's own (from its first frame).
    int width = 640;
    int height = 480;
    cv::Mat first;
    if (!options.size.empty()) {
        auto size = shmframe::parseSize(options.size);
        if (!size) {
            return fail(size.error().message);
        }
        width = static_cast<int>(size->first);
        height = static_cast<int>(size->second);
        if (capture.isOpened() && options.device >= 0) {
            capture.set(cv::CAP_PROP_FRAME_WIDTH, width);
            capture.set(cv::CAP_PROP_FRAME_HEIGHT, height);
        }
    }
    if (capture.isOpened()) {
        if (options.fps > 0 && options.file.empty()) {
            capture.set(cv::CAP_PROP_FPS, options.fps);
        }
        if (!capture.read(first) || first.empty()) {
            return fail("could not read a first frame from " + source);
        }
        if (options.size.empty()) {
            width = first.cols;
            height = first.rows;
        }
    }
    // Files and the synthetic scene are paced by us; live sources pace themselves.
    const bool paced = options.synthetic || !options.file.empty();
    double fps = options.fps;
    if (fps <= 0) {
        fps = capture.isOpened() ? capture.get(cv::CAP_PROP_FPS) : 30.0;
        if (!(fps > 0 && fps <= 1000)) {
            fps = 30.0;
        }
    }
    const auto thousandths = static_cast<std::int32_t>(std::lround(fps * 1000));
    const std::int32_t divisor = std::gcd(thousandths, 1000);
    auto format = shmframe::Format::make(pixelFormat, static_cast<std::uint32_t>(width),
                                         static_cast<std::uint32_t>(height),
                                         {thousandths / divisor, 1000 / divisor});
    if (!format) {
        return fail(format.error().message);
    }
    shmframe::WriterOptions writerOptions;
    writerOptions.slotCount = options.slots;
    signal(SIGINT, onStop);
    signal(SIGTERM, onStop);
    auto writer = shmframe::Writer::create(options.feed, *format, writerOptions);
    if (!writer) {
        return fail(writer.error().message);
    }
    std::printf("camera_publisher: publishing %s on '%s' as %s\n", source.c_str(),
                options.feed.c_str(), writer->format().describe().c_str());
    std::fflush(stdout);
    // Readers connect in their own time: a clip played to them from its first frame
    // waits until they are there (the writer never waits for a reader once it runs).
    while (!stopFlag && writer->stats().readers < options.waitReaders) {
        shmframe::sleepUntilNs(shmframe::monotonicNs() + 10'000'000u);
    }

    const int slotType = *shmframe::matType(pixelFormat);
    std::optional<SyntheticScene> scene;
    if (options.synthetic) {
        scene.emplace(width, height, slotType);
    }
    const auto periodNs = static_cast<std::uint64_t>(1e9 / fps);
    const std::uint64_t startNs = shmframe::monotonicNs();
    std::uint64_t nextNs = startNs;
    Counters counters;
    cv::Mat captured;
    for (std::uint64_t index = 0; !stopFlag && (options.frames == 0 || index < options.frames);
         ++index) {
        auto frame = writer->loan();
        if (!frame) {
            ++counters.skipped;
            if (capture.isOpened()) {
                capture.grab();  // keep a live source flowing
            }
            continue;
        }
        cv::Mat slot = *shmframe::matView(*frame);
        const uchar* slotData = slot.data;
        shmframe::FrameMeta meta;
        if (scene) {
            scene->draw(index, slot);
            ++counters.inPlace;
        } else {
            bool ok = true;
            if (index == 0) {
                storeCaptured(first, slot);
                ++counters.converted;
            } else if (slotType == CV_8UC3 && first.size() == slot.size()) {
                // Same size and type: VideoCapture::read() reuses the Mat's buffer, the slot.
                ok = capture.read(slot);
                if (ok && slot.data != slotData) {
                    // The backend handed us its own buffer instead: copy it over.
                    cv::Mat slotAgain = *shmframe::matView(*frame);
                    storeCaptured(slot, slotAgain);
                    ++counters.converted;
                } else if (ok) {
                    ++counters.inPlace;
                }
            } else {
                ok = capture.read(captured);
                if (ok) {
                    storeCaptured(captured, slot);
                    ++counters.converted;
                }
            }
            if (!ok) {
                if (!options.file.empty() && options.loop) {
                    capture.set(cv::CAP_PROP_POS_FRAMES, 0);
                    continue;
                }
                std::printf("camera_publisher: end of %s\n", source.c_str());
                break;
            }
            const double positionMs = capture.get(cv::CAP_PROP_POS_MSEC);
            if (positionMs > 0) {
                meta.pts = static_cast<std::uint64_t>(positionMs * 1e6);
            }
        }
        if (meta.pts == shmframe::kNoTimestamp) {
            meta.pts = paced ? index * periodNs : shmframe::monotonicNs() - startNs;
        }
        meta.duration = periodNs;
        if (auto published = writer->publish(std::move(*frame), meta); !published) {
            return fail(published.error().message);
        }
        ++counters.published;
        if (paced) {
            nextNs += periodNs;
            const std::uint64_t now = shmframe::monotonicNs();
            if (nextNs > now) {
                shmframe::sleepUntilNs(nextNs);
            } else if (now - nextNs > periodNs) {
                nextNs = now;
            }
        }
    }
    writer->close();
    std::printf(
        "camera_publisher: published %llu frames (%llu captured in place, %llu converted, "
        "%llu skipped)\n",
        static_cast<unsigned long long>(counters.published),
        static_cast<unsigned long long>(counters.inPlace),
        static_cast<unsigned long long>(counters.converted),
        static_cast<unsigned long long>(counters.skipped));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Publish a camera, video file, GStreamer pipeline or synthetic scene on a feed"};
    Options options;
    app.add_option("FEED", options.feed, "Feed to publish on")->required();
    auto* device = app.add_option("--device", options.device, "V4L2 device index (default 0)");
    auto* file = app.add_option("--file", options.file, "Video file to play");
    auto* pipeline =
        app.add_option("--pipeline", options.pipeline, "GStreamer pipeline ending in appsink");
    auto* synthetic =
        app.add_flag("--synthetic", options.synthetic, "A moving synthetic scene, no camera");
    device->excludes(file, pipeline, synthetic);
    file->excludes(pipeline, synthetic);
    pipeline->excludes(synthetic);
    app.add_flag("--loop", options.loop, "Restart a --file at its end");
    app.add_option("--size", options.size, "WIDTHxHEIGHT (default: the source's)");
    app.add_option("--format", options.format, "BGR, BGRx or GRAY8")->capture_default_str();
    app.add_option("--fps", options.fps, "Frame rate (default: the source's, or 30)");
    app.add_option("--frames", options.frames, "Stop after this many frames (0: never)");
    app.add_option("--slots", options.slots, "Slots in the pool")->capture_default_str();
    app.add_option("--wait-readers", options.waitReaders,
                   "Wait for this many readers before the first frame");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    return run(options);
}
