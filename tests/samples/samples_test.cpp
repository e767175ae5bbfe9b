// SPDX-License-Identifier: LGPL-2.1-or-later
// The samples, run as real programs: minimal writer/reader, camera_publisher
// (synthetic scene and a video file), opencv_filter (its output is compared with
// the same filter run here in-process), and the GStreamer pipeline scripts.
#include <gtest/gtest.h>
#include <signal.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <regex>

#include "run_command.h"
#include "shmframe/opencv.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;

const std::string kCameraPublisher = SHMFRAME_CAMERA_PUBLISHER;
const std::string kOpencvFilter = SHMFRAME_OPENCV_FILTER;
const std::string kMinimalWriter = SHMFRAME_MINIMAL_WRITER;
const std::string kMinimalReader = SHMFRAME_MINIMAL_READER;
const std::string kCli = SHMFRAME_CLI_PATH;
const std::string kPipelines = SHMFRAME_PIPELINES_DIR;
const bool kHavePlugin = SHMFRAME_HAVE_PLUGIN;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class Samples : public ::testing::Test {
  protected:
    TempFeedDir dir_;
    std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

    // A reader that is connected before the writer starts, so it sees the first frames.
    static Reader waitingReader(const std::string& feed, ReadMode mode = ReadMode::Sequential) {
        auto reader = Reader::open(feed, {.mode = mode, .waitForWriter = true});
        EXPECT_TRUE(reader) << reader.error().message;
        return std::move(*reader);
    }

    // Reads frames until \a count arrived; frames are handed to \a take while held.
    static int readFrames(Reader& reader, int count,
                          const std::function<void(const Frame&)>& take) {
        int received = 0;
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (received < count && std::chrono::steady_clock::now() < deadline) {
            auto frame = reader.next(1s);
            if (frame) {
                take(*frame);
                ++received;
            } else if (frame.error().code == Errc::EndOfStream) {
                break;
            }
        }
        return received;
    }
};

// --- minimal writer and reader --------------------------------------------------

struct MinimalLine {
    unsigned long long sequence = 0;
    unsigned pixel[4] = {};
};

std::optional<MinimalLine> parseMinimalLine(const std::string& line) {
    MinimalLine parsed;
    char format[64] = {};
    if (std::sscanf(line.c_str(), "frame %llu: %63[^,], first pixel %u %u %u %u", &parsed.sequence,
                    format, &parsed.pixel[0], &parsed.pixel[1], &parsed.pixel[2],
                    &parsed.pixel[3]) != 6 ||
        std::string(format) != "RGBA 640x480 @ 30/1") {
        return std::nullopt;
    }
    return parsed;
}

TEST_F(Samples, MinimalWriterAndReaderExchangeFrames) {
    CapturedChild writer(kMinimalWriter, {"demo", "100000"});
    auto reader = runCommand(kMinimalReader, {"demo", "5"});
    ASSERT_EQ(reader.exitCode, 0) << reader.err;
    auto lines = splitLines(reader.out);
    ASSERT_EQ(lines.size(), 5u) << reader.out;
    for (const std::string& line : lines) {
        auto parsed = parseMinimalLine(line);
        ASSERT_TRUE(parsed) << line;
        // The writer paints pixel (0, 0) of frame n as (n, 0, n, 255); sequences count from 1.
        const unsigned n = static_cast<unsigned>((parsed->sequence - 1) & 255);
        EXPECT_EQ(parsed->pixel[0], n) << line;
        EXPECT_EQ(parsed->pixel[1], 0u) << line;
        EXPECT_EQ(parsed->pixel[2], n) << line;
        EXPECT_EQ(parsed->pixel[3], 255u) << line;
    }
}

TEST_F(Samples, MinimalReaderStopsAtTheWritersEndOfStream) {
    CapturedChild reader(kMinimalReader, {"short", "100000"});  // waits for the writer
    auto writer = runCommand(kMinimalWriter, {"short", "30"});  // 1 s: time to connect
    EXPECT_EQ(writer.exitCode, 0) << writer.err;
    EXPECT_EQ(reader.child().wait(20s), 0) << reader.err();
    auto lines = splitLines(reader.out());
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(contains(lines.back(), "frame 30:")) << lines.back();
    EXPECT_FALSE(std::filesystem::exists(path("short.sock")));
}

// --- camera_publisher -------------------------------------------------------------

struct PublisherSummary {
    unsigned long long published = 0, inPlace = 0, converted = 0, skipped = 0;
};

std::optional<PublisherSummary> parseSummary(const std::string& out) {
    std::smatch match;
    static const std::regex summary(
        R"(published (\d+) frames \((\d+) captured in place, (\d+) converted, (\d+) skipped\))");
    if (!std::regex_search(out, match, summary)) {
        return std::nullopt;
    }
    return PublisherSummary{std::stoull(match[1]), std::stoull(match[2]), std::stoull(match[3]),
                            std::stoull(match[4])};
}

TEST_F(Samples, CameraPublisherSyntheticSceneMovesAndIsDrawnInPlace) {
    Reader reader = waitingReader("cam");
    CapturedChild publisher(kCameraPublisher,
                            {"cam", "--synthetic", "--size", "160x120", "--fps", "60"});
    std::vector<cv::Mat> frames;
    const int received = readFrames(reader, 3, [&](const Frame& frame) {
        EXPECT_EQ(frame.format().pixelFormat, PixelFormat::BGR);
        EXPECT_EQ(frame.format().width, 160u);
        EXPECT_EQ(frame.format().frameRate, (Fraction{60, 1}));
        frames.push_back(matView(frame)->clone());
    });
    ASSERT_EQ(received, 3) << publisher.err();
    EXPECT_GT(cv::norm(frames[0], frames[2], cv::NORM_L1), 0) << "the scene does not move";
    EXPECT_GT(cv::mean(frames[0])[0], 10) << "the frame is black";

    publisher.child().signal(SIGTERM);
    EXPECT_EQ(publisher.child().wait(20s), 0) << publisher.err();
    auto summary = parseSummary(publisher.out());
    ASSERT_TRUE(summary) << publisher.out();
    EXPECT_GE(summary->published, 3u);
    EXPECT_EQ(summary->inPlace, summary->published);
    EXPECT_FALSE(std::filesystem::exists(path("cam.sock")));
}

TEST_F(Samples, CameraPublisherWritesTheFormatAskedFor) {
    for (const auto& wanted :
         {std::pair{"BGRx", PixelFormat::BGRx}, std::pair{"GRAY8", PixelFormat::GRAY8}}) {
        const std::string name = wanted.first;
        const PixelFormat format = wanted.second;
        Reader reader = waitingReader("cam");
        CapturedChild publisher(kCameraPublisher, {"cam", "--synthetic", "--size", "64x48",
                                                   "--format", name, "--fps", "60"});
        const int received = readFrames(reader, 1, [&](const Frame& frame) {
            EXPECT_EQ(frame.format().pixelFormat, format) << name;
            EXPECT_GT(cv::mean(*matView(frame))[0], 10) << name;
        });
        EXPECT_EQ(received, 1) << name << ": " << publisher.err();
        publisher.child().signal(SIGTERM);
        EXPECT_EQ(publisher.child().wait(20s), 0);
    }
}

TEST_F(Samples, CameraPublisherPlaysAVideoFileIntoTheSlots) {
    // Ten frames of distinct flat colours, MJPEG in AVI (OpenCV's built-in writer).
    const std::string clip = path("clip.avi");
    {
        cv::VideoWriter video(clip, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10,
                              cv::Size(160, 120));
        ASSERT_TRUE(video.isOpened());
        for (int i = 0; i < 10; ++i) {
            video.write(cv::Mat(120, 160, CV_8UC3, cv::Scalar(20 * i, 100, 250 - 20 * i)));
        }
    }
    // The reader is there before the publisher; the publisher waits until it has
    // connected, so the clip reaches it from the first frame however busy the machine.
    Reader reader = waitingReader("clip");
    CapturedChild publisher(kCameraPublisher,
                            {"clip", "--file", clip, "--fps", "10", "--wait-readers", "1"});
    std::vector<cv::Scalar> means;
    readFrames(reader, 10, [&](const Frame& frame) {
        EXPECT_EQ(frame.format().pixelFormat, PixelFormat::BGR);
        EXPECT_NE(frame.meta().pts, kNoTimestamp);
        means.push_back(cv::mean(*matView(frame)));
    });
    EXPECT_EQ(publisher.child().wait(20s), 0) << publisher.err();
    ASSERT_GE(means.size(), 5u) << publisher.out() << publisher.err();
    // The last frame is the clip's last colour; earlier ones step down in blue.
    EXPECT_NEAR(means.back()[0], 180, 8);
    EXPECT_NEAR(means.back()[1], 100, 8);
    EXPECT_NEAR(means.back()[2], 70, 8);
    for (std::size_t i = 1; i < means.size(); ++i) {
        EXPECT_GT(means[i][0], means[i - 1][0]) << "frame " << i << " out of order";
    }
    EXPECT_TRUE(contains(publisher.out(), "end of file")) << publisher.out();
    auto summary = parseSummary(publisher.out());
    ASSERT_TRUE(summary) << publisher.out();
    EXPECT_EQ(summary->published, 10u);
    // Same size and type: every frame after the first is captured straight into a slot.
    EXPECT_EQ(summary->inPlace, 9u);
}

TEST_F(Samples, CameraPublisherRefusesWhatItCannotDo) {
    auto noCamera = runCommand(kCameraPublisher, {"cam", "--device", "99"});
    EXPECT_EQ(noCamera.exitCode, 1);
    EXPECT_TRUE(contains(noCamera.err, "could not open /dev/video99")) << noCamera.err;
    auto badFormat = runCommand(kCameraPublisher, {"cam", "--synthetic", "--format", "NV12"});
    EXPECT_EQ(badFormat.exitCode, 1);
    EXPECT_TRUE(contains(badFormat.err, "--format must be")) << badFormat.err;
    auto twoSources = runCommand(kCameraPublisher, {"cam", "--synthetic", "--device", "0"});
    EXPECT_EQ(twoSources.exitCode, 2);
    auto missingFile = runCommand(kCameraPublisher, {"cam", "--file", path("missing.mp4")});
    EXPECT_EQ(missingFile.exitCode, 1);
}

// --- opencv_filter ----------------------------------------------------------------

// Frame n of the filter tests: shapes that move with n, on a ramp.
cv::Mat inputImage(int n, int width, int height) {
    cv::Mat image(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            image.at<cv::Vec3b>(y, x) =
                cv::Vec3b(static_cast<uchar>(x), static_cast<uchar>(y), static_cast<uchar>(3 * n));
        }
    }
    cv::rectangle(image, cv::Rect(10 + 5 * n, 20, 40, 30), cv::Scalar(255, 255, 255), cv::FILLED);
    cv::circle(image, cv::Point(100, 60 + 3 * n), 20, cv::Scalar(0, 0, 0), cv::FILLED);
    return image;
}

cv::Mat cannyOfBlurred(const cv::Mat& gray) {
    cv::Mat blurred, edges;
    cv::GaussianBlur(gray, blurred, cv::Size(5, 5), 1.5);
    cv::Canny(blurred, edges, 50, 150);
    return edges;
}

// Publishes frames on "in" one at a time and checks each frame the filter
// publishes on "out" against the filter run here, in-process, on the same input.
void checkFilterChain(PixelFormat inputFormat, const std::vector<std::string>& filterArgs,
                      PixelFormat outputFormat) {
    auto format = Format::make(inputFormat, 160, 120, {30, 1});
    auto writer = Writer::create("in", *format);
    ASSERT_TRUE(writer) << writer.error().message;
    std::vector<std::string> args = {"in", "out", "--quiet"};
    args.insert(args.end(), filterArgs.begin(), filterArgs.end());
    CapturedChild filter(kOpencvFilter, args);
    auto reader = Reader::open("out", {.mode = ReadMode::Sequential, .waitForWriter = true});
    ASSERT_TRUE(reader);
    // The filter creates "out" as soon as it is connected to "in".
    ASSERT_TRUE(waitUntil(
        [&] {
            (void)reader->next(10ms);
            return reader->state() == ReaderState::Connected;
        },
        20s))
        << filter.err();
    for (int n = 0; n < 6; ++n) {
        auto loaned = writer->loan();
        ASSERT_TRUE(loaned);
        ASSERT_TRUE(writeBgr(inputImage(n, 160, 120), *loaned));
        cv::Mat gray;
        if (inputFormat == PixelFormat::NV12) {
            gray = lumaView(*loaned)->clone();  // the filter reads the Y plane as is
        } else {
            cv::cvtColor(*matView(*loaned), gray, cv::COLOR_BGR2GRAY);
        }
        cv::Mat expected = cannyOfBlurred(gray);
        if (outputFormat == PixelFormat::BGR) {
            cv::cvtColor(expected, expected, cv::COLOR_GRAY2BGR);
        }
        const std::uint64_t pts = 1000u + std::uint64_t(n);
        ASSERT_TRUE(writer->publish(std::move(*loaned), {.pts = pts}));

        auto output = reader->next(20s);
        ASSERT_TRUE(output) << "frame " << n << ": " << output.error().message << filter.err();
        EXPECT_EQ(output->meta().pts, pts) << "the filter keeps the input's timestamps";
        EXPECT_EQ(output->format().pixelFormat, outputFormat);
        auto view = matView(*output);
        ASSERT_TRUE(view);
        ASSERT_EQ(view->type(), expected.type());
        EXPECT_EQ(cv::norm(*view, expected, cv::NORM_INF), 0) << "frame " << n;
        EXPECT_GT(cv::countNonZero(expected.reshape(1)), 100) << "edges expected in frame " << n;
    }
    // End of stream passes through; --exit-on-eos ends the filter.
    ASSERT_TRUE(writer->endOfStream());
    EXPECT_EQ(filter.child().wait(20s), 0) << filter.err();
    EXPECT_TRUE(contains(filter.out(), "processed 6 frames")) << filter.out();
    auto end = reader->next(10s);
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().code, Errc::EndOfStream);
}

TEST_F(Samples, OpencvFilterPublishesCannyEdgesOfTheBlurredInput) {
    checkFilterChain(PixelFormat::BGR, {"--exit-on-eos"}, PixelFormat::GRAY8);
}

TEST_F(Samples, OpencvFilterReadsTheLumaOfNv12AndCanPublishBgr) {
    checkFilterChain(PixelFormat::NV12, {"--exit-on-eos", "--output", "bgr", "--mode", "latest"},
                     PixelFormat::BGR);
}

TEST_F(Samples, OpencvFilterChainsBehindCameraPublisher) {
    CapturedChild camera(kCameraPublisher, {"cam", "--synthetic", "--size", "160x120"});
    CapturedChild filter(kOpencvFilter, {"cam", "edges", "--mode", "latest"});
    Reader reader = waitingReader("edges", ReadMode::Latest);
    const int received = readFrames(reader, 3, [](const Frame& frame) {
        EXPECT_EQ(frame.format().pixelFormat, PixelFormat::GRAY8);
        EXPECT_GT(cv::countNonZero(*matView(frame)), 50) << "no edges found";
    });
    EXPECT_EQ(received, 3) << filter.err();
    filter.child().signal(SIGINT);
    EXPECT_EQ(filter.child().wait(20s), 0);
    EXPECT_TRUE(contains(filter.out(), "opencv_filter: processed")) << filter.out();
}

TEST_F(Samples, OpencvFilterRefusesBadOptions) {
    EXPECT_EQ(runCommand(kOpencvFilter, {"a", "b", "--blur", "4"}).exitCode, 1);
    EXPECT_EQ(runCommand(kOpencvFilter, {"a", "b", "--output", "rgb"}).exitCode, 1);
    EXPECT_EQ(runCommand(kOpencvFilter, {"a", "b", "--mode", "random"}).exitCode, 1);
    EXPECT_EQ(runCommand(kOpencvFilter, {"a"}).exitCode, 2);
}

// --- GStreamer pipeline scripts ------------------------------------------------------

std::string script(const std::string& name) {
    return kPipelines + "/" + name;
}

TEST_F(Samples, PipelineScriptsAreValidAndExplainTheirUsage) {
    for (const char* name : {"publish-test-pattern.sh", "view.sh", "record-mp4.sh",
                             "bridge-to-shmsink.sh", "bridge-from-shmsrc.sh"}) {
        EXPECT_EQ(runCommand("/bin/sh", {"-n", script(name)}).exitCode, 0) << name;
        auto usage = runCommand(script(name), {});
        EXPECT_EQ(usage.exitCode, 2) << name;
        EXPECT_TRUE(contains(usage.err, "usage:")) << name << ": " << usage.err;
    }
}

TEST_F(Samples, PublishTestPatternScriptFeedsAReader) {
    if (!kHavePlugin) {
        GTEST_SKIP() << "the shmframe GStreamer plugin is not built";
    }
    Reader reader = waitingReader("pattern", ReadMode::Latest);
    CapturedChild pipeline(script("publish-test-pattern.sh"),
                           {"pattern", "320x240", "RGBA", "30", "smpte"});
    const int received = readFrames(reader, 3, [](const Frame& frame) {
        EXPECT_EQ(frame.format().pixelFormat, PixelFormat::RGBA);
        EXPECT_EQ(frame.format().width, 320u);
        // SMPTE bars: the top-left bar is white (grey in some versions).
        const auto* pixel = reinterpret_cast<const std::uint8_t*>(frame.plane(0).data());
        EXPECT_GE(pixel[0], 180);
        EXPECT_EQ(pixel[0], pixel[1]);
        EXPECT_EQ(pixel[1], pixel[2]);
    });
    EXPECT_EQ(received, 3) << pipeline.err();
    pipeline.child().signal(SIGINT);
    EXPECT_EQ(pipeline.child().wait(20s), 0) << pipeline.err();
}

TEST_F(Samples, RecordScriptWritesAPlayableMp4) {
    if (!kHavePlugin) {
        GTEST_SKIP() << "the shmframe GStreamer plugin is not built";
    }
    Child publisher = Child::spawn(
        kCli, {"publish", "rec", "--size", "320x240", "--format", "I420", "--quiet"}, true);
    ASSERT_TRUE(waitUntil([] { return probeFeed("rec").hasValue(); }, 20s));
    const std::string file = path("rec.mp4");
    setenv("FRAMES", "20", 1);  // an exact length, however slowly GStreamer starts
    auto recorded = runCommand(script("record-mp4.sh"), {"rec", file}, 60s);
    unsetenv("FRAMES");
    EXPECT_EQ(recorded.exitCode, 0) << recorded.out << recorded.err;
    cv::VideoCapture video(file);
    ASSERT_TRUE(video.isOpened()) << file;
    cv::Mat frame;
    int frames = 0;
    while (video.read(frame)) {
        EXPECT_EQ(frame.size(), cv::Size(320, 240));
        ++frames;
    }
    EXPECT_EQ(frames, 20);
}

TEST_F(Samples, BridgeScriptsCarryAFeedThroughStockShmsinkAndShmsrc) {
    if (!kHavePlugin) {
        GTEST_SKIP() << "the shmframe GStreamer plugin is not built";
    }
    // shmframe feed -> stock shmsink -> stock shmsrc -> shmframe feed -> snapshot.
    Child publisher = Child::spawn(kCli,
                                   {"publish", "origin", "--size", "64x48", "--format", "RGBA",
                                    "--pattern", "solid:FF8000", "--quiet"},
                                   true);
    ASSERT_TRUE(waitUntil([] { return probeFeed("origin").hasValue(); }, 20s));
    const std::string socket = path("legacy.sock");
    CapturedChild toShm(script("bridge-to-shmsink.sh"), {"origin", socket});
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(socket); }, 20s)) << toShm.err();
    CapturedChild fromShm(
        script("bridge-from-shmsrc.sh"),
        {socket, "bridged", "video/x-raw,format=RGBA,width=64,height=48,framerate=30/1"});
    auto shot =
        runCommand(kCli, {"snapshot", "bridged", path("bridged.png"), "--wait", "--timeout", "20"});
    ASSERT_EQ(shot.exitCode, 0) << shot.err << fromShm.err() << toShm.err();
    cv::Mat image = cv::imread(path("bridged.png"), cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(image.empty());
    EXPECT_EQ(image.at<cv::Vec4b>(10, 10), cv::Vec4b(0, 128, 255, 255));
}

}  // namespace
}  // namespace shmframe::test
