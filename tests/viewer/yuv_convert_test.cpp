// SPDX-License-Identifier: LGPL-2.1-or-later
// YUV -> RGB on the CPU, colour spaces, and the pixel inspector's readings.
#include <vector>

#include <gtest/gtest.h>

#include "frame_image.h"
#include "pixel_probe.h"
#include "test_pattern.h"
#include "yuv_convert.h"

namespace shmframe::viewer {
namespace {

using test::closeTo;

Format formatOf(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height,
                std::string caps = {}) {
    auto format = Format::make(pixelFormat, width, height, {30, 1});
    EXPECT_TRUE(format) << format.error().message;
    format->caps = std::move(caps);
    return *format;
}

// A frame in local memory with the bars in it.
struct LocalFrame {
    explicit LocalFrame(const Format& f) : format(f), bytes(f.frameSize) {
        test::WritablePlanes writable{};
        for (std::uint32_t p = 0; p < format.planeCount; ++p) {
            writable[p] =
                std::span<std::byte>(bytes).subspan(format.planes[p].offset, format.planes[p].size);
            planes[p] = writable[p];
        }
        test::fillBars(format, writable);
    }
    Format format;
    std::vector<std::byte> bytes;
    FramePlanes planes{};
};

TEST(YuvConvert, Bt601LimitedWhiteBlackAndRedBecomeTheirRgb) {
    const Colorimetry bt601 = Colorimetry::bt601();
    EXPECT_EQ(yuvToQRgb(235, 128, 128, bt601), qRgb(255, 255, 255));
    EXPECT_EQ(yuvToQRgb(16, 128, 128, bt601), qRgb(0, 0, 0));
    EXPECT_TRUE(closeTo(yuvToQRgb(81, 90, 240, bt601), qRgb(255, 0, 0), 2));
    // Out-of-range codes clamp instead of wrapping.
    EXPECT_EQ(yuvToQRgb(255, 255, 255, bt601) | 0xff000000u, yuvToQRgb(255, 255, 255, bt601));
    EXPECT_EQ(qRed(yuvToQRgb(0, 0, 0, bt601)), 0);
}

TEST(YuvConvert, RgbToYuvGivesTheTextbookCodesForRed) {
    const Yuv red = rgbToYuv(qRgb(255, 0, 0), Colorimetry::bt601());
    EXPECT_EQ(red.y, 81);
    EXPECT_EQ(red.u, 90);
    EXPECT_EQ(red.v, 240);
    Colorimetry full709 = Colorimetry::bt709();
    full709.range = ColorRange::Full;
    const Yuv white709 = rgbToYuv(qRgb(255, 255, 255), full709);
    EXPECT_EQ(white709.y, 255);
    EXPECT_EQ(white709.u, 128);
}

TEST(YuvConvert, EveryColourSpaceRoundTripsWithinTwoLevels) {
    for (ColorMatrix matrix : {ColorMatrix::Bt601, ColorMatrix::Bt709, ColorMatrix::Bt2020,
                               ColorMatrix::Smpte240m, ColorMatrix::Fcc}) {
        for (ColorRange range : {ColorRange::Limited, ColorRange::Full}) {
            const Colorimetry space{matrix, range, ColorTransfer::Unknown, ColorPrimaries::Unknown};
            for (int bar = 0; bar < test::kBars; ++bar) {
                const QRgb colour = test::barColor(bar);
                const Yuv yuv = rgbToYuv(colour, space);
                EXPECT_TRUE(closeTo(yuvToQRgb(yuv.y, yuv.u, yuv.v, space), colour, 3))
                    << space.describe() << " bar " << bar;
            }
        }
    }
}

TEST(YuvConvert, TheFormatsColorimetryWinsAndUnknownMeansTheDefaultForTheHeight) {
    EXPECT_EQ(colorimetryOf(formatOf(PixelFormat::NV12, 640, 480)), Colorimetry::bt601());
    EXPECT_EQ(colorimetryOf(formatOf(PixelFormat::NV12, 1920, 1080)), Colorimetry::bt709());
    Format set = formatOf(PixelFormat::I420, 1920, 1080);
    set.colorimetry = Colorimetry::bt601();
    set.colorimetry.range = ColorRange::Full;
    EXPECT_EQ(colorimetryOf(set).matrix, ColorMatrix::Bt601);
    EXPECT_EQ(colorimetryOf(set).range, ColorRange::Full);
    Format unknown = formatOf(PixelFormat::YUY2, 1280, 720);
    unknown.colorimetry = Colorimetry{};
    EXPECT_EQ(colorimetryOf(unknown), Colorimetry::bt709());
    // The caps text is not read for colours: the Format's fields are.
    Format caps = formatOf(PixelFormat::NV12, 640, 480,
                           "video/x-raw, format=(string)NV12, colorimetry=(string)bt709");
    EXPECT_EQ(colorimetryOf(caps), Colorimetry::bt601());
}

class YuvLayout : public testing::TestWithParam<PixelFormat> {};

TEST_P(YuvLayout, CpuConversionShowsTheBarsAndMatchesThePixelInspector) {
    const LocalFrame frame(formatOf(GetParam(), 168, 64));
    QImage out;
    ASSERT_TRUE(convertYuvToRgb32(frame.format, frame.planes, out));
    ASSERT_EQ(out.size(), QSize(168, 64));
    ASSERT_EQ(out.format(), QImage::Format_RGB32);
    for (int y : {0, 31, 63}) {
        for (int x = 0; x < 168; ++x) {
            const auto probe = probePixel(frame.format, frame.planes, x, y);
            ASSERT_TRUE(probe);
            EXPECT_EQ(out.pixel(x, y), probe->rgb) << "x " << x << " y " << y;
        }
        for (int bar = 0; bar < test::kBars; ++bar) {
            const int x = bar * 21 + 10;
            EXPECT_TRUE(closeTo(out.pixel(x, y), test::barColor(bar), test::tolerance(GetParam())))
                << "bar " << bar << " got " << std::hex << out.pixel(x, y);
        }
    }
}

TEST_P(YuvLayout, ConverterRefusesPlanesShorterThanTheFormatSays) {
    LocalFrame frame(formatOf(GetParam(), 64, 32));
    FramePlanes truncated = frame.planes;
    truncated[0] = truncated[0].first(truncated[0].size() - 1);
    QImage out;
    const auto result = convertYuvToRgb32(frame.format, truncated, out);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, Errc::BadPool);
    EXPECT_FALSE(probePixel(frame.format, truncated, 0, 0));
}

INSTANTIATE_TEST_SUITE_P(Formats, YuvLayout,
                         testing::Values(PixelFormat::NV12, PixelFormat::I420, PixelFormat::YUY2,
                                         PixelFormat::UYVY),
                         [](const auto& param) { return std::string(toString(param.param)); });

TEST(PixelInspector, ReadsEachFormatInItsOwnTermsAndAsRgb) {
    const LocalFrame bgra(formatOf(PixelFormat::BGRA, 64, 8));
    auto probe = probePixel(bgra.format, bgra.planes, 40, 3);  // bar 5: red
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->native, QStringLiteral("B=0 G=0 R=255 A=255"));
    EXPECT_EQ(probe->rgb, qRgba(255, 0, 0, 255));
    EXPECT_EQ(probe->describe(PixelFormat::BGRA),
              QStringLiteral("x 40 y 3   BGRA B=0 G=0 R=255 A=255   RGB 255 0 0 #ff0000"));

    const LocalFrame gray16(formatOf(PixelFormat::GRAY16_LE, 64, 8));
    probe = probePixel(gray16.format, gray16.planes, 0, 0);
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->native, QStringLiteral("gray=60224 (0xeb40)"));

    const LocalFrame nv12(formatOf(PixelFormat::NV12, 64, 8));
    probe = probePixel(nv12.format, nv12.planes, 41, 5);
    ASSERT_TRUE(probe);
    EXPECT_EQ(probe->native, QStringLiteral("Y=81 U=90 V=240"));

    EXPECT_FALSE(probePixel(nv12.format, nv12.planes, 64, 0));
    EXPECT_FALSE(probePixel(nv12.format, nv12.planes, -1, 0));
}

TEST(FrameImage, EveryRgbAndGreyFormatHasAZeroCopyQtFormat) {
    for (PixelFormat format : allPixelFormats()) {
        if (format == PixelFormat::Unknown)
            continue;
        EXPECT_EQ(qtFormatFor(format) == QImage::Format_Invalid, isYuv(format)) << toString(format);
    }
    EXPECT_EQ(qtFormatFor(PixelFormat::BGR), QImage::Format_BGR888);
    EXPECT_EQ(qtFormatFor(PixelFormat::GRAY16_LE), QImage::Format_Grayscale16);
}

}  // namespace
}  // namespace shmframe::viewer
