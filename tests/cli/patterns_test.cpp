// SPDX-License-Identifier: LGPL-2.1-or-later
// The test-pattern library behind `shmframe publish`: pattern names, determinism,
// and the RGBA → pixel-format converters (exact for RGB, BT.601 for YUV).
#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include <cstring>
#include <vector>

#include "patterns.h"
#include "shmframe/opencv.h"

namespace shmframe::test {
namespace {

using patterns::PatternGenerator;
using patterns::PatternKind;
using patterns::RgbaImage;

RgbaImage render(const std::string& spec, std::uint32_t width, std::uint32_t height,
                 std::uint64_t index = 0) {
    auto parsed = patterns::parsePattern(spec);
    EXPECT_TRUE(parsed) << spec;
    PatternGenerator generator(*parsed, width, height);
    RgbaImage image;
    generator.render(index, image);
    return image;
}

std::vector<std::byte> toBuffer(const RgbaImage& image, const Format& format) {
    std::vector<std::byte> buffer(format.frameSize, std::byte{0xAB});
    auto written = patterns::writeBuffer(image, format, buffer);
    EXPECT_TRUE(written) << written.error().message;
    return buffer;
}

TEST(Patterns, ParsesEveryPatternNameAndRejectsOthers) {
    for (const char* name : {"moving", "gradient", "noise", "smpte", "checkers", "checkers:8",
                             "solid:FF8000", "solid:ff800080", "SOLID:00ff00"}) {
        EXPECT_TRUE(patterns::parsePattern(name)) << name;
    }
    EXPECT_EQ(patterns::parsePattern("checkers:8")->checkerSize, 8u);
    EXPECT_EQ(patterns::parsePattern("solid:ff800080")->colour, (patterns::Rgba{255, 128, 0, 128}));
    EXPECT_EQ(patterns::parsePattern("solid:FF8000")->describe(), "solid:FF8000");
    for (const char* name : {"", "plaid", "solid", "solid:", "solid:12345", "solid:GG0000",
                             "checkers:0", "checkers:x", "moving:1"}) {
        auto parsed = patterns::parsePattern(name);
        ASSERT_FALSE(parsed) << name;
        EXPECT_EQ(parsed.error().code, Errc::InvalidArgument);
        EXPECT_NE(parsed.error().message.find("valid patterns"), std::string::npos);
    }
}

TEST(Patterns, TheSameFrameIndexAlwaysDrawsTheSameImage) {
    for (const char* name : {"moving", "noise", "smpte", "gradient", "checkers"}) {
        EXPECT_EQ(render(name, 64, 48, 7).pixels, render(name, 64, 48, 7).pixels) << name;
    }
}

TEST(Patterns, MovingPatternsChangeAndStillOnesDoNot) {
    EXPECT_NE(render("moving", 160, 120, 1).pixels, render("moving", 160, 120, 2).pixels);
    EXPECT_NE(render("noise", 32, 32, 1).pixels, render("noise", 32, 32, 2).pixels);
    EXPECT_EQ(render("smpte", 64, 48, 1).pixels, render("smpte", 64, 48, 2).pixels);
    EXPECT_TRUE(PatternGenerator(*patterns::parsePattern("moving"), 8, 8).animated());
    EXPECT_FALSE(PatternGenerator(*patterns::parsePattern("gradient"), 8, 8).animated());
}

TEST(Patterns, TinyFramesAreDrawnWithoutOverrunning) {
    for (const char* name : {"moving", "smpte", "gradient", "checkers", "noise"}) {
        RgbaImage image = render(name, 2, 2, 12345);
        EXPECT_EQ(image.pixels.size(), 16u) << name;
    }
}

TEST(Patterns, CheckersAlternateBlackAndWhiteSquares) {
    RgbaImage image = render("checkers:4", 16, 16);
    EXPECT_EQ(image.at(0, 0), (patterns::Rgba{255, 255, 255, 255}));
    EXPECT_EQ(image.at(4, 0), (patterns::Rgba{0, 0, 0, 255}));
    EXPECT_EQ(image.at(4, 4), (patterns::Rgba{255, 255, 255, 255}));
}

TEST(Patterns, RgbFormatsGetTheExactBytesAndPaddingIsLeftAlone) {
    const struct {
        PixelFormat format;
        std::vector<std::uint8_t> pixel;
    } cases[] = {
        {PixelFormat::RGBA, {0x12, 0x34, 0x56, 0x78}},
        {PixelFormat::BGRA, {0x56, 0x34, 0x12, 0x78}},
        {PixelFormat::RGBx, {0x12, 0x34, 0x56, 0xFF}},
        {PixelFormat::BGRx, {0x56, 0x34, 0x12, 0xFF}},
        {PixelFormat::RGB, {0x12, 0x34, 0x56}},
        {PixelFormat::BGR, {0x56, 0x34, 0x12}},
    };
    for (const auto& [pixelFormat, pixel] : cases) {
        auto format = Format::make(pixelFormat, 10, 3, {}, 64);
        ASSERT_TRUE(format);
        auto buffer = toBuffer(render("solid:12345678", 10, 3), *format);
        const auto stride = format->planes[0].stride;
        for (std::uint32_t y = 0; y < 3; ++y) {
            const auto* row = reinterpret_cast<const std::uint8_t*>(buffer.data()) + y * stride;
            for (std::uint32_t x = 0; x < 10; ++x) {
                ASSERT_EQ(0, std::memcmp(row + x * pixel.size(), pixel.data(), pixel.size()))
                    << toString(pixelFormat) << " at " << x << "," << y;
            }
            for (std::uint32_t pad = 10 * std::uint32_t(pixel.size()); pad < stride; ++pad) {
                ASSERT_EQ(row[pad], 0xAB) << toString(pixelFormat) << ": padding written";
            }
        }
    }
}

TEST(Patterns, GrayAndYuvFormatsGetTheBt601Values) {
    const patterns::Rgba colour{255, 128, 0, 255};
    const patterns::Yuv yuv = patterns::toYuv(colour);
    EXPECT_EQ(patterns::toGray(colour), 151);
    EXPECT_EQ(yuv.y, 146);
    const RgbaImage image = render("solid:FF8000", 8, 4);
    auto byteAt = [](const std::vector<std::byte>& buffer, std::uint64_t offset) {
        return std::to_integer<int>(buffer[offset]);
    };
    auto gray16 = Format::make(PixelFormat::GRAY16_LE, 8, 4);
    auto gray16Buffer = toBuffer(image, *gray16);
    EXPECT_EQ(byteAt(gray16Buffer, 0) | (byteAt(gray16Buffer, 1) << 8), 151 * 257);

    auto nv12 = Format::make(PixelFormat::NV12, 8, 4);
    auto nv12Buffer = toBuffer(image, *nv12);
    EXPECT_EQ(byteAt(nv12Buffer, 0), yuv.y);
    EXPECT_EQ(byteAt(nv12Buffer, nv12->planes[1].offset), yuv.u);
    EXPECT_EQ(byteAt(nv12Buffer, nv12->planes[1].offset + 1), yuv.v);

    auto i420 = Format::make(PixelFormat::I420, 8, 4);
    auto i420Buffer = toBuffer(image, *i420);
    EXPECT_EQ(byteAt(i420Buffer, i420->planes[1].offset), yuv.u);
    EXPECT_EQ(byteAt(i420Buffer, i420->planes[2].offset), yuv.v);

    auto uyvy = Format::make(PixelFormat::UYVY, 8, 4);
    auto uyvyBuffer = toBuffer(image, *uyvy);
    EXPECT_EQ(byteAt(uyvyBuffer, 0), yuv.u);
    EXPECT_EQ(byteAt(uyvyBuffer, 1), yuv.y);
    EXPECT_EQ(byteAt(uyvyBuffer, 2), yuv.v);
}

TEST(Patterns, YuvFramesDecodeWithOpenCvCloseToTheRgbSource) {
    const RgbaImage image = render("gradient", 256, 64);
    for (PixelFormat pixelFormat :
         {PixelFormat::NV12, PixelFormat::I420, PixelFormat::YUY2, PixelFormat::UYVY}) {
        auto format = Format::make(pixelFormat, 256, 64, {}, 128);
        auto buffer = toBuffer(image, *format);
        auto bgr = toBgr(*format, buffer);
        ASSERT_TRUE(bgr) << bgr.error().message;
        int worst = 0;
        for (std::uint32_t y = 0; y < 64; ++y) {
            for (std::uint32_t x = 0; x < 256; ++x) {
                const auto want = image.at(x, y);
                const auto got = bgr->at<cv::Vec3b>(int(y), int(x));
                worst = std::max({worst, std::abs(got[0] - want.b), std::abs(got[1] - want.g),
                                  std::abs(got[2] - want.r)});
            }
        }
        EXPECT_LE(worst, 4) << toString(pixelFormat);
    }
}

TEST(Patterns, WritingRefusesAMismatchedImageOrBuffer) {
    auto format = Format::make(PixelFormat::RGBA, 16, 16);
    std::vector<std::byte> buffer(format->frameSize);
    auto wrongSize = patterns::writeBuffer(render("moving", 8, 8), *format, buffer);
    ASSERT_FALSE(wrongSize);
    EXPECT_EQ(wrongSize.error().code, Errc::InvalidArgument);
    std::vector<std::byte> small(format->frameSize / 2);
    auto tooSmall = patterns::writeBuffer(render("moving", 16, 16), *format, small);
    ASSERT_FALSE(tooSmall);
    EXPECT_EQ(tooSmall.error().code, Errc::InvalidArgument);
}

}  // namespace
}  // namespace shmframe::test
