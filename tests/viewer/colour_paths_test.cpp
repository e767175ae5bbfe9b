// SPDX-License-Identifier: LGPL-2.1-or-later
// One frame, one colour in the viewer: an NV12, I420 or YUY2 frame of every
// matrix (BT.601, BT.709, BT.2020) and range goes through each way the viewer
// paints YUV, and each must show the library's conversion (shmframe/color_convert.h,
// also what `shmframe snapshot` and the OpenCV helpers use):
// - the qimage painter calls that conversion: identical, pixel for pixel;
// - the OpenGL painter converts in its fragment shader, in floats, and the GL
//   framebuffer rounds: within 1 level per channel.
// The frame holds pseudo-random Y, U and V codes (all 256 of each, out-of-range
// ones too), so every sample pairs with many others and clamping is covered.
//
// The OpenGL case needs an OpenGL context: the offscreen platform has none, so it
// skips there, and the ctest ViewerShaderColoursMatchTheLibrary runs it in an
// Xvfb of its own (Mesa llvmpipe).
#include <cstdlib>
#include <vector>

#include <QImage>

#include <gtest/gtest.h>

#include <shmframe/color_convert.h>

#include "feed_view.h"
#include "test_support.h"
#include "viewer_test_support.h"

namespace shmframe::viewer {
namespace {

using namespace std::chrono_literals;
using test::waitFor;

// Even sizes (chroma subsampling), padded rows (the default stride alignment is 64).
constexpr std::uint32_t kWidth = 200;
constexpr std::uint32_t kHeight = 120;

struct ColourCase {
    PixelFormat pixelFormat;
    ColorMatrix matrix;
    ColorRange range;
};

std::string nameOf(const ColourCase& c) {
    const char* matrix = c.matrix == ColorMatrix::Bt601   ? "bt601"
                         : c.matrix == ColorMatrix::Bt709 ? "bt709"
                                                          : "bt2020";
    return std::string(toString(c.pixelFormat)) + "_" + matrix + "_" +
           (c.range == ColorRange::Full ? "full" : "limited");
}

void PrintTo(const ColourCase& c, std::ostream* out) {
    *out << nameOf(c);
}

Format formatOf(const ColourCase& c) {
    auto format = Format::make(c.pixelFormat, kWidth, kHeight, {100, 1});
    EXPECT_TRUE(format) << format.error().message;
    format->colorimetry.matrix = c.matrix;
    format->colorimetry.range = c.range;
    return *format;
}

// A well-mixed byte for each position (Knuth's multiplicative hash).
std::byte mixed(std::uint32_t index, std::uint32_t salt) {
    return std::byte(((index + salt) * 2654435761u) >> 24);
}

// A frame of \a format in local memory: every byte of every plane pseudo-random.
std::vector<std::byte> randomFrame(const Format& format) {
    std::vector<std::byte> bytes(format.frameSize);
    for (std::uint32_t p = 0; p < format.planeCount; ++p) {
        const Plane& plane = format.planes[p];
        for (std::uint64_t i = 0; i < plane.size; ++i)
            bytes[plane.offset + i] = mixed(std::uint32_t(i), 7919u * (p + 1));
    }
    return bytes;
}

PlaneBytes planesIn(const Format& format, const std::vector<std::byte>& bytes) {
    PlaneBytes planes{};
    for (std::uint32_t p = 0; p < format.planeCount; ++p)
        planes[p] = std::span<const std::byte>(bytes).subspan(format.planes[p].offset,
                                                              format.planes[p].size);
    return planes;
}

// The library's conversion of the frame, as the QImage the views are grabbed into.
QImage libraryImage(const Format& format, const std::vector<std::byte>& bytes) {
    QImage image(int(format.width), int(format.height), QImage::Format_RGB32);
    const auto converted =
        convertToRgb(format, planesIn(format, bytes), RgbOrder::Bgra,
                     reinterpret_cast<std::byte*>(image.bits()), std::size_t(image.bytesPerLine()));
    EXPECT_TRUE(converted) << converted.error().message;
    return image;
}

struct Difference {
    int worst = 0;            ///< the largest difference of one channel
    int pixelsDiffering = 0;  ///< pixels with any channel different
    QPoint worstAt;
};

Difference compare(const QImage& shown, const QImage& expected) {
    Difference difference;
    for (int y = 0; y < expected.height(); ++y) {
        for (int x = 0; x < expected.width(); ++x) {
            const QRgb a = shown.pixel(x, y);
            const QRgb b = expected.pixel(x, y);
            const int channel =
                std::max({std::abs(qRed(a) - qRed(b)), std::abs(qGreen(a) - qGreen(b)),
                          std::abs(qBlue(a) - qBlue(b))});
            if (channel > 0)
                ++difference.pixelsDiffering;
            if (channel > difference.worst) {
                difference.worst = channel;
                difference.worstAt = QPoint(x, y);
            }
        }
    }
    return difference;
}

// Publishes the frame until \a painter has painted it at 1:1, and returns the view's pixels.
QImage paintThrough(PainterKind painter, const Format& format,
                    const std::vector<std::byte>& bytes) {
    auto writer = Writer::create("colours", format);
    EXPECT_TRUE(writer) << writer.error().message;
    if (!writer)
        return {};
    EXPECT_EQ(writer->format().planes, format.planes);
    FeedView::Options options;
    options.painter = painter;
    options.retryDelay = 100ms;
    FeedView view(QStringLiteral("colours"), options);
    view.resize(int(format.width), int(format.height));
    view.show();
    const bool painted = waitFor([&] {
        // A frame per try: the view sees one whenever it connects.
        EXPECT_TRUE(writer->publishCopy(bytes));
        return view.framesPainted() >= 2;
    });
    EXPECT_TRUE(painted) << "state " << toString(view.state()) << " "
                         << view.problem().toStdString();
    EXPECT_EQ(view.viewfinder()->kind(), painter);
    EXPECT_TRUE(view.bannerText().isEmpty()) << view.bannerText().toStdString();
    QImage shown = view.grab().toImage().convertToFormat(QImage::Format_RGB32);
    EXPECT_EQ(shown.size(), QSize(int(format.width), int(format.height)));
    writer->close();
    return shown;
}

class PaintPaths : public testing::TestWithParam<ColourCase> {};

TEST_P(PaintPaths, QimagePainterShowsTheLibrarysConversionExactly) {
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(GetParam());
    const std::vector<std::byte> bytes = randomFrame(format);
    const QImage shown = paintThrough(PainterKind::QImage, format, bytes);
    ASSERT_FALSE(shown.isNull());
    const Difference difference = compare(shown, libraryImage(format, bytes));
    EXPECT_EQ(difference.worst, 0)
        << "at " << difference.worstAt.x() << "," << difference.worstAt.y();
}

TEST_P(PaintPaths, ShaderShowsTheLibrarysConversionWithinOneLevel) {
    if (!openGlAvailable())
        GTEST_SKIP() << "no OpenGL on this platform (the offscreen platform has none); "
                        "ctest runs this case in an Xvfb of its own";
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(GetParam());
    const std::vector<std::byte> bytes = randomFrame(format);
    const QImage shown = paintThrough(PainterKind::OpenGl, format, bytes);
    ASSERT_FALSE(shown.isNull());
    const QImage expected = libraryImage(format, bytes);
    const Difference difference = compare(shown, expected);
    EXPECT_LE(difference.worst, 1)
        << "at " << difference.worstAt.x() << "," << difference.worstAt.y() << ": shader "
        << std::hex << shown.pixel(difference.worstAt) << ", library "
        << expected.pixel(difference.worstAt);
    std::printf(
        "[ colour ] %s on %s: shader vs library at most %d level(s), %d of %d pixels "
        "differ\n",
        nameOf(GetParam()).c_str(), openGlRenderer().toUtf8().constData(), difference.worst,
        difference.pixelsDiffering, int(kWidth * kHeight));
}

std::vector<ColourCase> allCases() {
    std::vector<ColourCase> cases;
    for (PixelFormat pixelFormat : {PixelFormat::NV12, PixelFormat::I420, PixelFormat::YUY2})
        for (ColorMatrix matrix : {ColorMatrix::Bt601, ColorMatrix::Bt709, ColorMatrix::Bt2020})
            for (ColorRange range : {ColorRange::Limited, ColorRange::Full})
                cases.push_back({pixelFormat, matrix, range});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Colours, PaintPaths, testing::ValuesIn(allCases()),
                         [](const auto& param) { return nameOf(param.param); });

}  // namespace
}  // namespace shmframe::viewer
