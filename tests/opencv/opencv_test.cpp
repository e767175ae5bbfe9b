// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe/opencv.h: cv::Mat views over loaned and received frames (no copy), plane
// views of YUV, conversions to and from BGR, and errors as values.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <opencv2/imgproc.hpp>

#include "shmframe/opencv.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::test {
namespace {

using namespace std::chrono_literals;

struct PackedCase {
    PixelFormat format;
    int type;
};

const PackedCase kPacked[] = {
    {PixelFormat::GRAY8, CV_8UC1}, {PixelFormat::GRAY16_LE, CV_16UC1}, {PixelFormat::BGR, CV_8UC3},
    {PixelFormat::RGB, CV_8UC3},   {PixelFormat::BGRA, CV_8UC4},       {PixelFormat::RGBA, CV_8UC4},
    {PixelFormat::BGRx, CV_8UC4},  {PixelFormat::RGBx, CV_8UC4},
};

const PixelFormat kYuv[] = {PixelFormat::NV12, PixelFormat::I420, PixelFormat::YUY2,
                            PixelFormat::UYVY};

// A smooth, deterministic colour image (smooth so chroma subsampling loses little).
cv::Mat smoothImage(int width, int height) {
    cv::Mat image(height, width, CV_8UC3);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            // Two levels per pixel at most, whatever the size.
            image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(40 + 2 * (x % 64)),
                                                  static_cast<uchar>(60 + 2 * (y % 64)),
                                                  static_cast<uchar>(200 - 2 * (x % 64)));
        }
    }
    return image;
}

cv::Mat noiseImage(int width, int height, int seed) {
    cv::Mat image(height, width, CV_8UC3);
    cv::RNG rng(static_cast<std::uint64_t>(seed));
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    return image;
}

double maxDifference(const cv::Mat& a, const cv::Mat& b) {
    cv::Mat difference;
    cv::absdiff(a, b, difference);
    double worst = 0;
    cv::minMaxLoc(difference.reshape(1), nullptr, &worst);
    return worst;
}

class OpenCvAdapter : public ::testing::Test {
  protected:
    TempFeedDir dir_;

    static Writer makeWriter(const std::string& feed, PixelFormat pixelFormat, std::uint32_t width,
                             std::uint32_t height, std::uint32_t align = 64) {
        auto format = Format::make(pixelFormat, width, height, {30, 1}, align);
        EXPECT_TRUE(format) << format.error().message;
        auto writer = Writer::create(feed, *format);
        EXPECT_TRUE(writer) << writer.error().message;
        return std::move(*writer);
    }
};

TEST_F(OpenCvAdapter, LoanedFrameViewIsTheSlotItselfForEveryPackedFormat) {
    for (const auto& [pixelFormat, type] : kPacked) {
        // 37 pixels: every row is padded up to the 64-byte stride.
        Writer writer = makeWriter("packed", pixelFormat, 37, 11);
        auto frame = writer.loan();
        ASSERT_TRUE(frame);
        auto view = matView(*frame);
        ASSERT_TRUE(view) << view.error().message;
        EXPECT_EQ(static_cast<const void*>(view->data), frame->plane(0).data())
            << toString(pixelFormat);
        EXPECT_EQ(view->step[0], frame->format().planes[0].stride) << toString(pixelFormat);
        EXPECT_EQ(view->type(), type) << toString(pixelFormat);
        EXPECT_EQ(view->size(), cv::Size(37, 11));
        EXPECT_EQ(*matType(pixelFormat), type);
    }
}

TEST_F(OpenCvAdapter, ReceivedFrameViewShowsTheWrittenPixelsWhereTheyLie) {
    for (const auto& [pixelFormat, type] : kPacked) {
        Writer writer = makeWriter("received", pixelFormat, 50, 20);
        auto reader = Reader::open("received", {.mode = ReadMode::Sequential});
        ASSERT_TRUE(reader) << reader.error().message;

        auto loaned = writer.loan();
        ASSERT_TRUE(loaned);
        cv::Mat slot = *matView(*loaned);
        cv::randu(slot, cv::Scalar::all(0), cv::Scalar::all(type == CV_16UC1 ? 65535 : 255));
        const cv::Mat written = slot.clone();
        ASSERT_TRUE(writer.publish(std::move(*loaned)));

        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
        auto view = matView(*frame);
        ASSERT_TRUE(view) << view.error().message;
        EXPECT_EQ(static_cast<const void*>(view->data), frame->plane(0).data())
            << toString(pixelFormat);
        EXPECT_EQ(view->step[0], frame->format().planes[0].stride);
        EXPECT_EQ(view->type(), type);
        EXPECT_EQ(maxDifference(*view, written), 0) << toString(pixelFormat);
    }
}

TEST_F(OpenCvAdapter, YuvFramesHaveNoWholeFrameViewButViewsOfTheirPlanes) {
    Writer nv12 = makeWriter("nv12", PixelFormat::NV12, 64, 32);
    auto nv12Frame = nv12.loan();
    ASSERT_TRUE(nv12Frame);
    auto whole = matView(*nv12Frame);
    ASSERT_FALSE(whole);
    EXPECT_EQ(whole.error().code, Errc::Unsupported);
    EXPECT_FALSE(matType(PixelFormat::NV12));
    auto luma = lumaView(*nv12Frame);
    ASSERT_TRUE(luma);
    EXPECT_EQ(static_cast<const void*>(luma->data), nv12Frame->plane(0).data());
    EXPECT_EQ(luma->type(), CV_8UC1);
    EXPECT_EQ(luma->size(), cv::Size(64, 32));
    auto chroma = planeView(*nv12Frame, 1);
    ASSERT_TRUE(chroma);
    EXPECT_EQ(static_cast<const void*>(chroma->data), nv12Frame->plane(1).data());
    EXPECT_EQ(chroma->type(), CV_8UC2);
    EXPECT_EQ(chroma->size(), cv::Size(32, 16));
    EXPECT_EQ(chroma->step[0], nv12Frame->format().planes[1].stride);
    auto pastTheEnd = planeView(*nv12Frame, 2);
    ASSERT_FALSE(pastTheEnd);
    EXPECT_EQ(pastTheEnd.error().code, Errc::InvalidArgument);

    Writer i420 = makeWriter("i420", PixelFormat::I420, 33, 17);  // odd: halves round up
    auto i420Frame = i420.loan();
    ASSERT_TRUE(i420Frame);
    for (std::uint32_t plane = 1; plane < 3; ++plane) {
        auto view = planeView(*i420Frame, plane);
        ASSERT_TRUE(view);
        EXPECT_EQ(static_cast<const void*>(view->data), i420Frame->plane(plane).data());
        EXPECT_EQ(view->type(), CV_8UC1);
        EXPECT_EQ(view->size(), cv::Size(17, 9));
    }

    Writer yuy2 = makeWriter("yuy2", PixelFormat::YUY2, 64, 32);
    auto yuy2Frame = yuy2.loan();
    ASSERT_TRUE(yuy2Frame);
    auto interleaved = lumaView(*yuy2Frame);
    ASSERT_FALSE(interleaved);
    EXPECT_EQ(interleaved.error().code, Errc::Unsupported);
    auto packed = planeView(*yuy2Frame, 0);
    ASSERT_TRUE(packed);
    EXPECT_EQ(packed->type(), CV_8UC2);
    EXPECT_EQ(packed->size(), cv::Size(64, 32));
}

TEST_F(OpenCvAdapter, YuvFramesConvertToBgrCloseToTheImageWritten) {
    struct Size {
        std::uint32_t width, height, align;
    };
    for (PixelFormat pixelFormat : kYuv) {
        for (Size size : {Size{64, 32, 64}, Size{64, 32, 1}, Size{33, 17, 64}, Size{33, 17, 1}}) {
            const std::string what =
                std::string(toString(pixelFormat)) + " " + std::to_string(size.width) + "x" +
                std::to_string(size.height) + " align " + std::to_string(size.align);
            Writer writer = makeWriter("yuv", pixelFormat, size.width, size.height, size.align);
            auto reader = Reader::open("yuv", {.mode = ReadMode::Sequential});
            ASSERT_TRUE(reader);
            const cv::Mat image = smoothImage(int(size.width), int(size.height));
            auto loaned = writer.loan();
            ASSERT_TRUE(loaned);
            ASSERT_TRUE(writeBgr(image, *loaned)) << what;
            ASSERT_TRUE(writer.publish(std::move(*loaned)));
            auto frame = reader->next(5s);
            ASSERT_TRUE(frame) << what;
            auto bgr = toBgr(*frame);
            ASSERT_TRUE(bgr) << what << ": " << bgr.error().message;
            ASSERT_EQ(bgr->size(), image.size()) << what;
            ASSERT_EQ(bgr->type(), CV_8UC3);
            EXPECT_LE(maxDifference(*bgr, image), 6) << what;
        }
    }
}

TEST_F(OpenCvAdapter, PaddedAndContiguousI420ConvertAlike) {
    const cv::Mat image = noiseImage(64, 32, 7);
    cv::Mat results[2];
    for (int i = 0; i < 2; ++i) {
        // align 1: planes back to back, converted in place; align 64: gathered first.
        Writer writer = makeWriter("i420", PixelFormat::I420, 64, 32, i == 0 ? 1 : 64);
        auto loaned = writer.loan();
        ASSERT_TRUE(loaned);
        ASSERT_TRUE(writeBgr(image, *loaned));
        auto bgr = toBgr(*loaned);
        ASSERT_TRUE(bgr) << bgr.error().message;
        results[i] = *bgr;
    }
    EXPECT_EQ(maxDifference(results[0], results[1]), 0);
}

TEST_F(OpenCvAdapter, RgbFormatsRoundTripThroughBgrExactly) {
    const cv::Mat image = noiseImage(41, 13, 3);
    cv::Mat gray;
    cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
    for (const auto& [pixelFormat, type] : kPacked) {
        Writer writer = makeWriter("rgb", pixelFormat, 41, 13);
        auto loaned = writer.loan();
        ASSERT_TRUE(loaned);
        ASSERT_TRUE(writeBgr(image, *loaned)) << toString(pixelFormat);
        auto bgr = toBgr(*loaned);
        ASSERT_TRUE(bgr) << bgr.error().message;
        if (pixelFormat == PixelFormat::GRAY8 || pixelFormat == PixelFormat::GRAY16_LE) {
            cv::Mat grayBgr;
            cv::cvtColor(gray, grayBgr, cv::COLOR_GRAY2BGR);
            EXPECT_EQ(maxDifference(*bgr, grayBgr), 0) << toString(pixelFormat);
        } else {
            EXPECT_EQ(maxDifference(*bgr, image), 0) << toString(pixelFormat);
        }
        if (pixelFormat == PixelFormat::GRAY16_LE) {
            cv::Mat wide;
            gray.convertTo(wide, CV_16U, 257.0);
            EXPECT_EQ(maxDifference(*matView(*loaned), wide), 0);
        }
        if (type == CV_8UC4) {  // alpha / x is opaque
            std::vector<cv::Mat> channels;
            cv::split(*matView(*loaned), channels);
            EXPECT_EQ(cv::countNonZero(channels[3] != 255), 0) << toString(pixelFormat);
        }
    }
}

TEST_F(OpenCvAdapter, ChannelOrderHelpersMapFormatsBothWays) {
    EXPECT_EQ(pixelFormatForMatType(CV_8UC1), PixelFormat::GRAY8);
    EXPECT_EQ(pixelFormatForMatType(CV_16UC1), PixelFormat::GRAY16_LE);
    EXPECT_EQ(pixelFormatForMatType(CV_8UC3), PixelFormat::BGR);
    EXPECT_EQ(pixelFormatForMatType(CV_8UC4), PixelFormat::BGRA);
    EXPECT_EQ(pixelFormatForMatType(CV_32FC1), std::nullopt);
    EXPECT_EQ(*toBgrConversionCode(PixelFormat::BGR), -1);
    EXPECT_EQ(*fromBgrConversionCode(PixelFormat::BGR), -1);
    EXPECT_EQ(*toBgrConversionCode(PixelFormat::NV12), cv::COLOR_YUV2BGR_NV12);
    EXPECT_FALSE(fromBgrConversionCode(PixelFormat::YUY2));

    const cv::Mat image = noiseImage(8, 8, 1);
    for (PixelFormat format : {PixelFormat::RGB, PixelFormat::RGBA, PixelFormat::BGRA,
                               PixelFormat::RGBx, PixelFormat::BGRx}) {
        cv::Mat converted, back;
        cv::cvtColor(image, converted, *fromBgrConversionCode(format));
        EXPECT_EQ(converted.type(), *matType(format));
        cv::cvtColor(converted, back, *toBgrConversionCode(format));
        EXPECT_EQ(maxDifference(back, image), 0) << toString(format);
    }
}

TEST_F(OpenCvAdapter, BadCallsGiveErrorsNotExceptions) {
    LoanedFrame empty;
    auto emptyView = matView(empty);
    ASSERT_FALSE(emptyView);
    EXPECT_EQ(emptyView.error().code, Errc::InvalidArgument);
    EXPECT_FALSE(toBgr(Frame{}));

    Writer writer = makeWriter("bad", PixelFormat::BGR, 16, 16);
    auto loaned = writer.loan();
    ASSERT_TRUE(loaned);
    auto wrongSize = writeBgr(cv::Mat(8, 8, CV_8UC3), *loaned);
    ASSERT_FALSE(wrongSize);
    EXPECT_EQ(wrongSize.error().code, Errc::InvalidArgument);
    EXPECT_FALSE(writeBgr(cv::Mat(16, 16, CV_8UC4), *loaned));

    auto format = Format::make(PixelFormat::NV12, 16, 16);
    std::vector<std::byte> small(format->frameSize - 1);
    auto tooSmall = toBgr(*format, small);
    ASSERT_FALSE(tooSmall);
    EXPECT_EQ(tooSmall.error().code, Errc::InvalidArgument);
}

TEST_F(OpenCvAdapter, WritingThroughAReadOnlyViewKillsOnlyThatProcess) {
    Writer writer = makeWriter("readonly", PixelFormat::BGR, 32, 32);
    auto loaned = writer.loan();
    ASSERT_TRUE(loaned);
    ASSERT_TRUE(writer.publish(std::move(*loaned)));
    Child child = Child::fork([] {
        auto reader = Reader::open("readonly");
        if (!reader) {
            return 3;
        }
        auto frame = reader->next(std::chrono::seconds(10));
        if (!frame) {
            return 4;
        }
        cv::Mat view = *matView(*frame);
        signal(SIGSEGV, SIG_DFL);         // die of the fault even where a sanitizer catches it
        view.setTo(cv::Scalar(1, 2, 3));  // the pages are mapped read-only
        return 0;
    });
    EXPECT_EQ(child.wait(30s), -2);
    const int status = child.kill();  // already reaped: returns the wait status
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit code " << WEXITSTATUS(status);
    EXPECT_TRUE(WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS) << WTERMSIG(status);
    // The writer is unharmed.
    auto after = writer.loan();
    EXPECT_TRUE(after);
}

}  // namespace
}  // namespace shmframe::test
