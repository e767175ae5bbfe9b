// SPDX-License-Identifier: LGPL-2.1-or-later
// opencv_filter: a processing step between two feeds. Reads feed INPUT as a Mat
// over shared memory (no copy), runs Gaussian blur + Canny edge detection, and
// writes the result straight into a slot of feed OUTPUT.
//
//   camera_publisher cam0 --synthetic &
//   opencv_filter cam0 edges --output bgr
//   shmframe snapshot edges edges.png
#include <signal.h>

#include <CLI/CLI.hpp>
#include <opencv2/imgproc.hpp>

#include <atomic>
#include <cstdio>
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
    std::string input;
    std::string output;
    std::string mode = "sequential";
    std::string outputFormat = "gray";
    int blur = 5;
    double sigma = 1.5;
    double low = 50;
    double high = 150;
    std::uint64_t frames = 0;
    std::uint32_t slots = 4;
    bool exitOnEos = false;
    bool quiet = false;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "opencv_filter: error: %s\n", message.c_str());
    return 1;
}

// The input frame as 8-bit gray, a view where the format allows it (GRAY8, and
// the Y plane of NV12/I420), else converted into `scratch`.
shmframe::Result<cv::Mat> grayOf(const shmframe::Frame& frame, cv::Mat& scratch) {
    using shmframe::PixelFormat;
    const PixelFormat format = frame.format().pixelFormat;
    switch (format) {
        case PixelFormat::GRAY8:
        case PixelFormat::NV12:
        case PixelFormat::I420:
            return shmframe::lumaView(frame);
        case PixelFormat::YUY2:
        case PixelFormat::UYVY: {
            auto packed = shmframe::planeView(frame, 0);
            if (!packed) {
                return std::move(packed).error();
            }
            cv::cvtColor(
                *packed, scratch,
                format == PixelFormat::YUY2 ? cv::COLOR_YUV2GRAY_YUY2 : cv::COLOR_YUV2GRAY_UYVY);
            return scratch;
        }
        case PixelFormat::GRAY16_LE: {
            auto view = shmframe::matView(frame);
            if (!view) {
                return std::move(view).error();
            }
            view->convertTo(scratch, CV_8U, 1.0 / 257.0);
            return scratch;
        }
        default: {
            auto view = shmframe::matView(frame);
            if (!view) {
                return std::move(view).error();
            }
            const bool rgbOrder = format == PixelFormat::RGB || format == PixelFormat::RGBA ||
                                  format == PixelFormat::RGBx;
            const int code = view->channels() == 3
                                 ? (rgbOrder ? cv::COLOR_RGB2GRAY : cv::COLOR_BGR2GRAY)
                                 : (rgbOrder ? cv::COLOR_RGBA2GRAY : cv::COLOR_BGRA2GRAY);
            cv::cvtColor(*view, scratch, code);
            return scratch;
        }
    }
}

class Filter {
  public:
    explicit Filter(const Options& options) : options_(options) {}

    // Blur + Canny of `gray`, written into `target` (GRAY8 or BGR slot view).
    void apply(const cv::Mat& gray, cv::Mat& target) {
        const cv::Mat* blurred = &gray;
        if (options_.blur > 0) {
            cv::GaussianBlur(gray, blurred_, cv::Size(options_.blur, options_.blur),
                             options_.sigma);
            blurred = &blurred_;
        }
        if (target.type() == CV_8UC1) {
            cv::Canny(*blurred, target, options_.low, options_.high);
        } else {
            cv::Canny(*blurred, edges_, options_.low, options_.high);
            cv::cvtColor(edges_, target, cv::COLOR_GRAY2BGR);
        }
    }

  private:
    const Options& options_;
    cv::Mat blurred_;
    cv::Mat edges_;
};

struct Counters {
    std::uint64_t processed = 0;
    std::uint64_t torn = 0;    // the writer took the input slot back while we read it
    std::uint64_t noSlot = 0;  // every output slot was busy
    std::uint64_t processingNs = 0;
};

int run(const Options& options) {
    auto mode = shmframe::readModeFromString(options.mode);
    if (!mode) {
        return fail("--mode must be latest or sequential");
    }
    const shmframe::PixelFormat outputFormat =
        options.outputFormat == "bgr" ? shmframe::PixelFormat::BGR : shmframe::PixelFormat::GRAY8;
    if (options.outputFormat != "gray" && options.outputFormat != "bgr") {
        return fail("--output must be gray or bgr");
    }
    if (options.blur < 0 || (options.blur > 0 && options.blur % 2 == 0) || options.blur > 99) {
        return fail("--blur must be 0 (off) or an odd kernel size up to 99");
    }
    signal(SIGINT, onStop);
    signal(SIGTERM, onStop);

    shmframe::ReaderOptions readerOptions;
    readerOptions.mode = *mode;
    readerOptions.waitForWriter = true;
    readerOptions.clientName = "opencv_filter";
    auto reader = shmframe::Reader::open(options.input, readerOptions);
    if (!reader) {
        return fail(reader.error().message);
    }
    std::optional<shmframe::Writer> writer;
    // The output follows the input's size and rate; a new input format reconfigures it.
    auto ensureWriter = [&](const shmframe::Format& input) -> shmframe::Result<void> {
        if (writer && writer->format().width == input.width &&
            writer->format().height == input.height) {
            return {};
        }
        auto format =
            shmframe::Format::make(outputFormat, input.width, input.height, input.frameRate);
        if (!format) {
            return std::move(format).error();
        }
        if (writer) {
            return writer->reconfigure(*format);
        }
        shmframe::WriterOptions writerOptions;
        writerOptions.slotCount = options.slots;
        auto created = shmframe::Writer::create(options.output, *format, writerOptions);
        if (!created) {
            return std::move(created).error();
        }
        writer.emplace(std::move(*created));
        std::printf("opencv_filter: '%s' -> '%s' as %s\n", options.input.c_str(),
                    options.output.c_str(), writer->format().describe().c_str());
        std::fflush(stdout);
        return {};
    };

    Filter filter(options);
    Counters counters;
    cv::Mat scratch;
    std::uint64_t reportNs = shmframe::monotonicNs();
    std::uint64_t reportProcessed = 0;
    while (!stopFlag && (options.frames == 0 || counters.processed < options.frames)) {
        // Create the output as soon as the input's format is known, before its first frame.
        if (auto format = reader->format()) {
            if (auto ready = ensureWriter(*format); !ready) {
                return fail(ready.error().message);
            }
        }
        auto frame = reader->next(std::chrono::milliseconds(200));
        if (!frame) {
            switch (frame.error().code) {
                case shmframe::Errc::Timeout:
                case shmframe::Errc::WouldBlock:
                case shmframe::Errc::WriterGone:  // the reader waits for the next writer
                case shmframe::Errc::Dropped:
                    break;
                case shmframe::Errc::EndOfStream:
                    if (writer) {
                        (void)writer->endOfStream();
                    }
                    if (options.exitOnEos) {
                        stopFlag = true;
                    }
                    break;
                default:
                    return fail(frame.error().message);
            }
            continue;
        }
        if (auto ready = ensureWriter(frame->format()); !ready) {
            return fail(ready.error().message);
        }
        auto slot = writer->loan();
        if (!slot) {
            ++counters.noSlot;
            continue;
        }
        const std::uint64_t startNs = shmframe::monotonicNs();
        try {
            auto gray = grayOf(*frame, scratch);
            if (!gray) {
                return fail(gray.error().message);
            }
            cv::Mat target = *shmframe::matView(*slot);
            const uchar* slotData = target.data;
            filter.apply(*gray, target);
            if (target.data != slotData) {
                // OpenCV allocated its own output after all: copy it into the slot.
                cv::Mat slotView = *shmframe::matView(*slot);
                target.copyTo(slotView);
            }
        } catch (const cv::Exception& e) {
            return fail(std::string("OpenCV failed on ") + frame->format().describe() + ": " +
                        e.what());
        }
        counters.processingNs += shmframe::monotonicNs() - startNs;
        if (!frame->leaseIntact()) {
            ++counters.torn;  // the input changed under us: drop this output frame
            continue;
        }
        shmframe::FrameMeta meta = frame->meta();
        frame->release();
        if (auto published = writer->publish(std::move(*slot), meta); !published) {
            return fail(published.error().message);
        }
        ++counters.processed;

        const std::uint64_t now = shmframe::monotonicNs();
        if (!options.quiet && now - reportNs >= 1'000'000'000u) {
            const auto stats = reader->stats();
            const double seconds = double(now - reportNs) / 1e9;
            std::fprintf(stderr,
                         "opencv_filter: %.1f fps  processed %llu  skipped %llu  gaps %llu  "
                         "%.2f ms/frame\n",
                         double(counters.processed - reportProcessed) / seconds,
                         static_cast<unsigned long long>(counters.processed),
                         static_cast<unsigned long long>(stats.skipped),
                         static_cast<unsigned long long>(stats.gaps),
                         double(counters.processingNs) / 1e6 / double(counters.processed));
            reportNs = now;
            reportProcessed = counters.processed;
        }
    }
    const auto stats = reader->stats();
    if (writer) {
        writer->close();
    }
    std::printf(
        "opencv_filter: processed %llu frames (received %llu, skipped %llu, gaps %llu, torn "
        "%llu, no free slot %llu)\n",
        static_cast<unsigned long long>(counters.processed),
        static_cast<unsigned long long>(stats.received),
        static_cast<unsigned long long>(stats.skipped), static_cast<unsigned long long>(stats.gaps),
        static_cast<unsigned long long>(counters.torn),
        static_cast<unsigned long long>(counters.noSlot));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Blur + Canny edges of feed INPUT, published on feed OUTPUT"};
    Options options;
    app.add_option("INPUT", options.input, "Feed to read")->required();
    app.add_option("OUTPUT", options.output, "Feed to publish")->required();
    app.add_option("--mode", options.mode, "latest or sequential")->capture_default_str();
    app.add_option("--output", options.outputFormat, "gray (GRAY8) or bgr (BGR)")
        ->capture_default_str();
    app.add_option("--blur", options.blur, "Gaussian kernel size, odd; 0 turns blur off")
        ->capture_default_str();
    app.add_option("--sigma", options.sigma, "Gaussian sigma")->capture_default_str();
    app.add_option("--low", options.low, "Canny low threshold")->capture_default_str();
    app.add_option("--high", options.high, "Canny high threshold")->capture_default_str();
    app.add_option("--frames", options.frames, "Stop after this many frames (0: never)");
    app.add_option("--slots", options.slots, "Slots in the output pool")->capture_default_str();
    app.add_flag("--exit-on-eos", options.exitOnEos, "Exit when the input ends its stream");
    app.add_flag("--quiet", options.quiet, "No stats line every second");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    return run(options);
}
