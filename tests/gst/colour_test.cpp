// SPDX-License-Identifier: LGPL-2.1-or-later
// One frame, one colour: GStreamer colour bars with a known colorimetry go through
// shmframesink, and the library's conversion (toBgr), `shmframe snapshot` and
// GStreamer's own videoconvert behind shmframesrc must agree.
//
// What "agree" means, measured: the library and the CLI are the same code and must
// be identical; both are within 1 level of the real-number BT.601/709/2020 maths.
// videoconvert (GStreamer 1.22) is not: for 8-bit YUV to RGB it uses a fast kernel
// (video_orc_convert_AYUV_ARGB) with factors rounded to 1/256, every product
// truncated, and, for limited range, no offset term (it centres Y on 128, so its
// limited-range output is about 2.4 levels dark: white 235 comes out 253). That is
// up to 5 levels from the real-number maths, so the library is compared with it
// within kVideoconvertTolerance, and the explanation is checked: on flat regions
// videoconvert gives exactly what a model of that kernel (videoconvertKernel) gives.
// Pixels next to a colour edge are skipped: videoconvert interpolates chroma, we
// repeat it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "gst_test_support.h"
#include "run_command.h"
#include "shmframe/color_convert.h"
#include "shmframe/opencv.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

constexpr int kVideoconvertTolerance = 6;

struct ColourCase {
    const char* name;
    const char* format;
    int width;
    int height;
    const char* colorimetry;  // in the caps
    Colorimetry expected;     // what the pool must say
};

Colorimetry with(Colorimetry colorimetry, ColorRange range) {
    colorimetry.range = range;
    return colorimetry;
}

// Pixels whose 5x5 neighbourhood in \a image is one colour.
cv::Mat flatMask(const cv::Mat& image) {
    cv::Mat low;
    cv::Mat high;
    const cv::Mat kernel = cv::Mat::ones(5, 5, CV_8U);
    cv::erode(image, low, kernel);
    cv::dilate(image, high, kernel);
    cv::Mat same;
    cv::compare(low, high, same, cv::CMP_EQ);
    std::vector<cv::Mat> channels;
    cv::split(same, channels);
    cv::Mat mask = channels[0] & channels[1] & channels[2];
    return mask;
}

int maxDifference(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    std::vector<cv::Mat> channels;
    cv::split(diff, channels);
    const cv::Mat largest = cv::max(cv::max(channels[0], channels[1]), channels[2]);
    double worst = 0;
    if (mask.empty()) {
        cv::minMaxLoc(largest, nullptr, &worst);
    } else {
        cv::minMaxLoc(largest, nullptr, &worst, nullptr, nullptr, mask);
    }
    return int(worst);
}

struct LumaWeights {
    double kr;
    double kb;
};

LumaWeights weightsOf(const Colorimetry& colorimetry) {
    if (colorimetry.matrix == ColorMatrix::Bt709)
        return {0.2126, 0.0722};
    if (colorimetry.matrix == ColorMatrix::Bt2020)
        return {0.2627, 0.0593};
    return {0.299, 0.114};
}

// Each pixel of a YUV frame (chroma repeated) through \a convert(y, u, v), which
// returns B, G, R.
template <typename Convert>
cv::Mat convertEachPixel(const Frame& frame, Convert convert) {
    const Format& format = frame.format();
    cv::Mat out(int(format.height), int(format.width), CV_8UC3);
    const auto byteAt = [&](std::uint32_t plane, std::size_t offset) {
        return int(std::to_integer<std::uint8_t>(frame.plane(plane)[offset]));
    };
    for (std::uint32_t y = 0; y < format.height; ++y) {
        for (std::uint32_t x = 0; x < format.width; ++x) {
            int luma = 0, u = 0, v = 0;
            const std::size_t row = std::size_t(y) * format.planes[0].stride;
            switch (format.pixelFormat) {
                case PixelFormat::NV12: {
                    const std::size_t c = std::size_t(y / 2) * format.planes[1].stride + x / 2 * 2;
                    luma = byteAt(0, row + x), u = byteAt(1, c), v = byteAt(1, c + 1);
                    break;
                }
                case PixelFormat::I420: {
                    luma = byteAt(0, row + x);
                    u = byteAt(1, std::size_t(y / 2) * format.planes[1].stride + x / 2);
                    v = byteAt(2, std::size_t(y / 2) * format.planes[2].stride + x / 2);
                    break;
                }
                default: {  // YUY2
                    const std::size_t quad = row + x / 2 * 4;
                    luma = byteAt(0, quad + (x % 2) * 2), u = byteAt(0, quad + 1),
                    v = byteAt(0, quad + 3);
                    break;
                }
            }
            out.at<cv::Vec3b>(int(y), int(x)) = convert(luma, u, v);
        }
    }
    return out;
}

// The real-number R'G'B' of each pixel of a YUV frame (chroma repeated), rounded.
cv::Mat referenceBgr(const Frame& frame) {
    const Format& format = frame.format();
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    const LumaWeights weights = weightsOf(colorimetry);
    const double kr = weights.kr;
    const double kb = weights.kb;
    const bool full = colorimetry.range == ColorRange::Full;
    return convertEachPixel(frame, [&](int luma, int u, int v) {
        const double l = full ? luma / 255.0 : (luma - 16) / 219.0;
        const double pb = (u - 128) / (full ? 255.0 : 224.0);
        const double pr = (v - 128) / (full ? 255.0 : 224.0);
        const double r = l + (2 - 2 * kr) * pr;
        const double b = l + (2 - 2 * kb) * pb;
        const double g = (l - kr * r - kb * b) / (1 - kr - kb);
        const auto code = [](double value) {
            return cv::saturate_cast<std::uint8_t>(std::lround(255.0 * value));
        };
        return cv::Vec3b(code(b), code(g), code(r));
    });
}

// A model of videoconvert's 8-bit YUV to RGB (GStreamer 1.22,
// video_orc_convert_AYUV_ARGB as set up by prepare_matrix): samples centred on 128
// as signed bytes, widened to 16 bits by repeating the byte (s * 256 + (s & 255)),
// each multiplied by a factor rounded to 1/256 and shifted right by 16 (floor),
// the sum saturated to a signed byte and moved back by 128. The range's offset is
// not part of it.
cv::Mat videoconvertKernel(const Frame& frame) {
    const Format& format = frame.format();
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    const LumaWeights weights = weightsOf(colorimetry);
    const double kr = weights.kr;
    const double kb = weights.kb;
    const double kg = 1 - kr - kb;
    const bool full = colorimetry.range == ColorRange::Full;
    const double lumaScale = full ? 1.0 : 255.0 / 219.0;
    const double chromaScale = full ? 1.0 : 255.0 / 224.0;
    const auto factor = [](double value) { return int(std::lrint(value * 256.0)); };
    const int yFactor = factor(lumaScale);
    const int rFromV = factor((2 - 2 * kr) * chromaScale);
    const int bFromU = factor((2 - 2 * kb) * chromaScale);
    const int gFromU = factor(-2 * kb * (1 - kb) / kg * chromaScale);
    const int gFromV = factor(-2 * kr * (1 - kr) / kg * chromaScale);
    const auto widen = [](int code) {
        const int centred = code - 128;
        return centred * 256 + (centred & 0xff);
    };
    const auto mulhsw = [](int a, int b) { return (a * b) >> 16; };
    const auto narrow = [](int value) { return std::uint8_t(std::clamp(value, -128, 127) + 128); };
    return convertEachPixel(frame, [&](int luma, int u, int v) {
        const int wy = mulhsw(widen(luma), yFactor);
        const int wu = widen(u);
        const int wv = widen(v);
        return cv::Vec3b(narrow(wy + mulhsw(wu, bFromU)),
                         narrow(wy + mulhsw(wu, gFromU) + mulhsw(wv, gFromV)),
                         narrow(wy + mulhsw(wv, rFromV)));
    });
}

class Colour : public testing::TestWithParam<ColourCase> {};

TEST_P(Colour, LibraryCliSnapshotAndVideoconvertShowTheSameColours) {
    const ColourCase& c = GetParam();
    test::TempFeedDir dir;
    const std::string caps =
        std::string("video/x-raw,format=") + c.format + ",width=" + std::to_string(c.width) +
        ",height=" + std::to_string(c.height) + ",framerate=30/1,colorimetry=" + c.colorimetry;
    Pipeline writer("videotestsrc pattern=smpte100 is-live=true ! " + caps +
                    " ! shmframesink feed=bars");
    ASSERT_TRUE(writer.valid()) << writer.parseError();
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("bars", options);
    ASSERT_TRUE(reader) << reader.error().message;
    auto frame = reader->next(20s);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_EQ(frame->format().colorimetry, c.expected) << frame->format().colorimetry.describe();

    auto library = toBgr(*frame);
    ASSERT_TRUE(library) << library.error().message;
    const cv::Mat reference = referenceBgr(*frame);
    EXPECT_LE(maxDifference(*library, reference, {}), 1) << "library vs real-number maths";

    // The CLI snapshot is the library's conversion, to the bit.
    const std::string png = dir.path() + "/bars.png";
    const auto shot = test::runCommand(SHMFRAME_CLI_PATH, {"snapshot", "bars", png});
    ASSERT_EQ(shot.exitCode, 0) << shot.err;
    const cv::Mat snapshot = cv::imread(png, cv::IMREAD_COLOR);
    ASSERT_EQ(snapshot.size(), library->size());
    EXPECT_EQ(maxDifference(snapshot, *library, {}), 0) << "snapshot vs library";

    // GStreamer's own conversion of the same pool, behind shmframesrc (which must
    // carry the colorimetry back into caps for videoconvert to use it).
    Pipeline converter(
        "shmframesrc feed=bars ! videoconvert ! video/x-raw,format=BGR ! appsink name=sink");
    ASSERT_TRUE(converter.valid()) << converter.parseError();
    ASSERT_NE(converter.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstSample* sample = pullSample(converter.element("sink"));
    ASSERT_NE(sample, nullptr);
    GstVideoInfo info;
    ASSERT_TRUE(gst_video_info_from_caps(&info, gst_sample_get_caps(sample)));
    GstVideoFrame mapped;
    ASSERT_TRUE(gst_video_frame_map(&mapped, &info, gst_sample_get_buffer(sample), GST_MAP_READ));
    const cv::Mat videoconvert =
        cv::Mat(c.height, c.width, CV_8UC3, GST_VIDEO_FRAME_PLANE_DATA(&mapped, 0),
                std::size_t(GST_VIDEO_FRAME_PLANE_STRIDE(&mapped, 0)))
            .clone();
    gst_video_frame_unmap(&mapped);
    gst_sample_unref(sample);

    const cv::Mat flat = flatMask(*library);
    ASSERT_GT(cv::countNonZero(flat), c.width * c.height / 2);
    const int worst = maxDifference(*library, videoconvert, flat);
    EXPECT_LE(worst, kVideoconvertTolerance) << "library vs videoconvert on flat regions";
    // The whole difference is videoconvert's kernel: it gives exactly the model's
    // pixels. (A GStreamer with other arithmetic fails here: then measure again and
    // update the model, the tolerance and docs/viewer.md.)
    const int unexplained = maxDifference(videoconvertKernel(*frame), videoconvert, flat);
    EXPECT_EQ(unexplained, 0) << "videoconvert vs the model of its 8-bit kernel, flat regions";
    const int kernelError = maxDifference(videoconvert, reference, flat);
    std::printf(
        "[ colour ] %s: on flat regions library vs real maths %d, videoconvert vs real "
        "maths %d, library vs videoconvert %d, videoconvert vs its kernel's model %d "
        "level(s)\n",
        c.name, maxDifference(*library, reference, flat), kernelError, worst, unexplained);
    converter.reset();
    frame->release();
    writer.reset();
}

INSTANTIATE_TEST_SUITE_P(
    Bars, Colour,
    testing::Values(
        ColourCase{"Nv12Bt601Limited", "NV12", 640, 480, "bt601", Colorimetry::bt601()},
        ColourCase{"Nv12Bt709Limited1080p", "NV12", 1920, 1080, "bt709", Colorimetry::bt709()},
        ColourCase{"I420Bt709Full", "I420", 640, 360, "1:3:5:1",
                   with(Colorimetry::bt709(), ColorRange::Full)},
        ColourCase{"Yuy2Bt2020Limited", "YUY2", 640, 360, "bt2020", Colorimetry::bt2020()},
        ColourCase{"I420Bt601Limited", "I420", 320, 240, "bt601", Colorimetry::bt601()},
        ColourCase{"Yuy2Bt709Limited", "YUY2", 320, 240, "bt709", Colorimetry::bt709()},
        // range:matrix:transfer:primaries in GStreamer's numbers.
        ColourCase{"Nv12Bt601Full", "NV12", 640, 480, "1:4:16:4",
                   with(Colorimetry::bt601(), ColorRange::Full)},
        ColourCase{"I420Bt2020Full", "I420", 320, 240, "1:6:11:7",
                   with(Colorimetry::bt2020(), ColorRange::Full)}),
    [](const auto& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace shmframe::gsttest
