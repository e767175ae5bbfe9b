// SPDX-License-Identifier: LGPL-2.1-or-later
// Colorimetry in the Format and the pool header, and the one colour conversion.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "pool_layout.h"
#include "shmframe/color_convert.h"
#include "shmframe/colorimetry.h"
#include "shmframe/format.h"

using namespace shmframe;

namespace {

Format formatOf(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height) {
    auto format = Format::make(pixelFormat, width, height, {30, 1});
    EXPECT_TRUE(format) << format.error().message;
    return *format;
}

Colorimetry with(Colorimetry colorimetry, ColorRange range) {
    colorimetry.range = range;
    return colorimetry;
}

// Writes a pool header for \a format and reads it back, as a reader would.
Result<layout::PoolDescription> roundTrip(const Format& format,
                                          void (*tamper)(layout::PoolHeader&) = nullptr) {
    auto geometry = layout::computeGeometry(format, 3, 0);
    EXPECT_TRUE(geometry);
    std::vector<std::byte> pool(geometry->poolSize);
    layout::PoolDescription description;
    description.geometry = *geometry;
    description.format = format;
    description.leaseLimit = 1;
    layout::writeHeader(layout::header(pool.data()), description);
    if (tamper) {
        tamper(layout::header(pool.data()));
    }
    return layout::readHeader(pool.data(), pool.size());
}

}  // namespace

TEST(Colorimetry, WritersThatSayNothingGetGStreamersDefaultForTheFormatAndHeight) {
    EXPECT_EQ(formatOf(PixelFormat::NV12, 720, 576).colorimetry, Colorimetry::bt601());
    EXPECT_EQ(formatOf(PixelFormat::I420, 640, 578).colorimetry, Colorimetry::bt709());
    EXPECT_EQ(formatOf(PixelFormat::YUY2, 1920, 1080).colorimetry, Colorimetry::bt709());
    EXPECT_EQ(formatOf(PixelFormat::UYVY, 3840, 2160).colorimetry, Colorimetry::bt709());
    EXPECT_EQ(formatOf(PixelFormat::RGBA, 1920, 1080).colorimetry, Colorimetry::srgb());
    EXPECT_EQ(formatOf(PixelFormat::GRAY8, 64, 64).colorimetry.range, ColorRange::Full);
    // Unknown fields resolve to the same defaults.
    EXPECT_EQ(Colorimetry{}.resolved(PixelFormat::NV12, 1080), Colorimetry::bt709());
    const Colorimetry rgbMatrixOnYuv{ColorMatrix::Rgb, ColorRange::Full, ColorTransfer::Unknown,
                                     ColorPrimaries::Unknown};
    EXPECT_EQ(rgbMatrixOnYuv.resolved(PixelFormat::NV12, 480).matrix, ColorMatrix::Bt601);
}

TEST(Colorimetry, NamesAndTheCommandLineFormRoundTrip) {
    for (std::uint32_t value = 0; value < 20; ++value) {
        const auto matrix = static_cast<ColorMatrix>(value);
        if (isKnownValue(matrix)) {
            EXPECT_EQ(colorMatrixFromString(toString(matrix)), matrix);
        }
        const auto transfer = static_cast<ColorTransfer>(value);
        if (isKnownValue(transfer)) {
            EXPECT_EQ(colorTransferFromString(toString(transfer)), transfer);
        }
        const auto primaries = static_cast<ColorPrimaries>(value);
        if (isKnownValue(primaries)) {
            EXPECT_EQ(colorPrimariesFromString(toString(primaries)), primaries);
        }
    }
    EXPECT_EQ(*Colorimetry::parse("bt709"), Colorimetry::bt709());
    EXPECT_EQ(*Colorimetry::parse("BT709:full"), with(Colorimetry::bt709(), ColorRange::Full));
    EXPECT_EQ(*Colorimetry::parse("bt2020"), Colorimetry::bt2020());
    const Colorimetry odd{ColorMatrix::Smpte240m, ColorRange::Full, ColorTransfer::Gamma22,
                          ColorPrimaries::Film};
    EXPECT_EQ(*Colorimetry::parse(odd.toString()), odd);
    for (const char* bad : {"", "bt709:", "bt709:middle", "xyz", "full:bt709:bt709", "a:b:c:d",
                            "full:bt709:bt709:bt709:x"}) {
        const auto parsed = Colorimetry::parse(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_EQ(parsed.error().code, Errc::InvalidArgument);
        EXPECT_NE(parsed.error().message.find("colorimetry"), std::string::npos);
    }
}

TEST(Colorimetry, FormatRefusesAColourValueThatHasNoName) {
    Format format = formatOf(PixelFormat::NV12, 64, 48);
    format.colorimetry.transfer = static_cast<ColorTransfer>(99);
    const auto valid = format.validate();
    ASSERT_FALSE(valid);
    EXPECT_NE(valid.error().message.find("colorimetry.transfer"), std::string::npos);
}

TEST(Colorimetry, ThePoolHeaderCarriesItToReaders) {
    Format format = formatOf(PixelFormat::NV12, 1920, 1080);
    format.colorimetry = with(Colorimetry::bt2020(), ColorRange::Full);
    auto read = roundTrip(format);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->format.colorimetry, format.colorimetry);
    EXPECT_EQ(read->format, format);
}

TEST(Colorimetry, AValueFromSharedMemoryWithoutANameReadsAsUnknown) {
    const Format format = formatOf(PixelFormat::I420, 640, 480);
    auto read = roundTrip(format, [](layout::PoolHeader& header) {
        header.format.colorMatrix = 0xdeadbeef;
        header.format.colorRange = 7;
        header.format.colorTransfer = 1000;
        header.format.colorPrimaries = 0xffffffff;
    });
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->format.colorimetry, Colorimetry{});
    EXPECT_EQ(read->format.colorimetry.resolved(format.pixelFormat, format.height),
              Colorimetry::bt601());
}

// R'G'B' from Y'CbCr in real numbers, the textbook way: what the converter must hit.
std::array<double, 3> referenceRgb(int y, int u, int v, ColorMatrix matrix, ColorRange range) {
    double kr = 0.299, kb = 0.114;
    if (matrix == ColorMatrix::Bt709) {
        kr = 0.2126, kb = 0.0722;
    } else if (matrix == ColorMatrix::Bt2020) {
        kr = 0.2627, kb = 0.0593;
    } else if (matrix == ColorMatrix::Smpte240m) {
        kr = 0.212, kb = 0.087;
    } else if (matrix == ColorMatrix::Fcc) {
        kr = 0.30, kb = 0.11;
    }
    const bool full = range == ColorRange::Full;
    const double luma = full ? y / 255.0 : (y - 16) / 219.0;
    const double pb = (u - 128) / (full ? 255.0 : 224.0);
    const double pr = (v - 128) / (full ? 255.0 : 224.0);
    const double r = luma + (2 - 2 * kr) * pr;
    const double b = luma + (2 - 2 * kb) * pb;
    const double g = (luma - kr * r - kb * b) / (1 - kr - kb);
    return {255 * r, 255 * g, 255 * b};
}

TEST(ColorConvert, EveryMatrixAndRangeIsWithinOneLevelOfTheRealNumberResult) {
    for (ColorMatrix matrix : {ColorMatrix::Bt601, ColorMatrix::Bt709, ColorMatrix::Bt2020,
                               ColorMatrix::Smpte240m, ColorMatrix::Fcc}) {
        for (ColorRange range : {ColorRange::Limited, ColorRange::Full}) {
            const Colorimetry colorimetry{matrix, range, ColorTransfer::Unknown,
                                          ColorPrimaries::Unknown};
            int worst = 0;
            for (int y = 0; y < 256; y += 3) {
                for (int u = 0; u < 256; u += 5) {
                    for (int v = 0; v < 256; v += 5) {
                        const auto got = yuvToRgb(std::uint8_t(y), std::uint8_t(u), std::uint8_t(v),
                                                  colorimetry);
                        const auto want = referenceRgb(y, u, v, matrix, range);
                        for (int c = 0; c < 3; ++c) {
                            const auto expected =
                                int(std::lround(std::clamp(want[std::size_t(c)], 0.0, 255.0)));
                            worst = std::max(worst, std::abs(got[std::size_t(c)] - expected));
                        }
                    }
                }
            }
            EXPECT_LE(worst, 1) << colorimetry.describe();
        }
    }
}

TEST(ColorConvert, RgbToYuvAndBackGivesTheColourWithinTwoLevels) {
    for (const Colorimetry& colorimetry :
         {Colorimetry::bt601(), Colorimetry::bt709(), with(Colorimetry::bt709(), ColorRange::Full),
          Colorimetry::bt2020()}) {
        for (int r = 0; r < 256; r += 51) {
            for (int g = 0; g < 256; g += 51) {
                for (int b = 0; b < 256; b += 51) {
                    const std::uint8_t rgb[3] = {std::uint8_t(r), std::uint8_t(g), std::uint8_t(b)};
                    std::uint8_t y, u, v;
                    rgbRowToYuv(rgb, 1, RgbOrder::Rgb, colorimetry, &y, &u, &v);
                    const auto single = rgbToYuv(rgb[0], rgb[1], rgb[2], colorimetry);
                    EXPECT_LE(std::abs(single[0] - y), 1);
                    const auto back = yuvToRgb(y, u, v, colorimetry);
                    for (int c = 0; c < 3; ++c) {
                        EXPECT_LE(std::abs(back[std::size_t(c)] - rgb[c]), 2)
                            << colorimetry.describe() << " rgb " << r << "," << g << "," << b;
                    }
                }
            }
        }
    }
}

class ColorConvertLayouts : public testing::TestWithParam<PixelFormat> {};

// One colour per 2x2 block everywhere, so every layout holds the same pixels.
TEST_P(ColorConvertLayouts, EveryLayoutAndOrderGivesTheSamePixels) {
    const std::uint32_t width = 34;
    const std::uint32_t height = 10;
    Format format = formatOf(GetParam(), width, height);
    format.colorimetry = with(Colorimetry::bt709(), ColorRange::Full);
    std::vector<std::byte> bytes(format.frameSize);
    const auto at = [&](std::uint32_t plane, std::uint32_t row) {
        return reinterpret_cast<std::uint8_t*>(bytes.data()) + format.planes[plane].offset +
               std::size_t(row) * format.planes[plane].stride;
    };
    const auto yuvOf = [](std::uint32_t x, std::uint32_t y) {
        const std::uint32_t block = x / 2 + 17 * (y / 2);
        return std::array<std::uint8_t, 3>{std::uint8_t(20 + (block * 37 + x % 2) % 200),
                                           std::uint8_t(40 + block * 53 % 170),
                                           std::uint8_t(30 + block * 71 % 190)};
    };
    for (std::uint32_t y = 0; y < height; ++y) {
        for (std::uint32_t x = 0; x < width; ++x) {
            const auto yuv = yuvOf(x, y);
            switch (format.pixelFormat) {
                case PixelFormat::NV12:
                    at(0, y)[x] = yuv[0];
                    at(1, y / 2)[x / 2 * 2] = yuv[1];
                    at(1, y / 2)[x / 2 * 2 + 1] = yuv[2];
                    break;
                case PixelFormat::I420:
                    at(0, y)[x] = yuv[0];
                    at(1, y / 2)[x / 2] = yuv[1];
                    at(2, y / 2)[x / 2] = yuv[2];
                    break;
                case PixelFormat::YUY2:
                    at(0, y)[x / 2 * 4 + (x % 2) * 2] = yuv[0];
                    at(0, y)[x / 2 * 4 + 1] = yuv[1];
                    at(0, y)[x / 2 * 4 + 3] = yuv[2];
                    break;
                default:  // UYVY
                    at(0, y)[x / 2 * 4 + 1 + (x % 2) * 2] = yuv[0];
                    at(0, y)[x / 2 * 4] = yuv[1];
                    at(0, y)[x / 2 * 4 + 2] = yuv[2];
                    break;
            }
        }
    }
    PlaneBytes planes{};
    for (std::uint32_t p = 0; p < format.planeCount; ++p) {
        planes[p] = std::span<const std::byte>(bytes).subspan(format.planes[p].offset,
                                                              format.planes[p].size);
    }
    for (RgbOrder order : {RgbOrder::Bgra, RgbOrder::Rgba, RgbOrder::Bgr, RgbOrder::Rgb}) {
        const std::uint32_t bpp = bytesPerPixel(order);
        const std::size_t stride = width * bpp + 5;  // rows need not be packed
        std::vector<std::byte> out(stride * height);
        ASSERT_TRUE(convertToRgb(format, planes, order, out.data(), stride));
        const bool bgr = order == RgbOrder::Bgra || order == RgbOrder::Bgr;
        for (std::uint32_t y = 0; y < height; ++y) {
            for (std::uint32_t x = 0; x < width; ++x) {
                const auto yuv = yuvOf(x, y);
                const auto want = yuvToRgb(yuv[0], yuv[1], yuv[2], format.colorimetry);
                const auto* pixel =
                    reinterpret_cast<const std::uint8_t*>(out.data()) + y * stride + x * bpp;
                ASSERT_EQ(pixel[bgr ? 2 : 0], want[0]) << x << "," << y;
                ASSERT_EQ(pixel[1], want[1]) << x << "," << y;
                ASSERT_EQ(pixel[bgr ? 0 : 2], want[2]) << x << "," << y;
                if (bpp == 4) {
                    ASSERT_EQ(pixel[3], 255);
                }
            }
        }
    }
    // A plane shorter than the format says is refused, not read past.
    const std::size_t needed =
        std::size_t(format.planes[0].stride) * (format.planeRows(0) - 1) + format.rowBytes(0);
    planes[0] = planes[0].first(needed - 1);
    std::vector<std::byte> out(4 * width * height);
    const auto refused = convertToRgb(format, planes, RgbOrder::Bgra, out.data(), 4 * width);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::BadPool);
}

INSTANTIATE_TEST_SUITE_P(Yuv, ColorConvertLayouts,
                         testing::Values(PixelFormat::NV12, PixelFormat::I420, PixelFormat::YUY2,
                                         PixelFormat::UYVY),
                         [](const auto& param) { return std::string(toString(param.param)); });
