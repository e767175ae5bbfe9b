// SPDX-License-Identifier: LGPL-2.1-or-later
#include <gtest/gtest.h>

#include "shmframe/format.h"

using namespace shmframe;

TEST(Format, EveryFormatNameRoundTrips) {
    ASSERT_EQ(allPixelFormats().size(), 12u);
    for (const auto format : allPixelFormats()) {
        EXPECT_EQ(pixelFormatFromString(toString(format)), format) << toString(format);
    }
    EXPECT_EQ(pixelFormatFromString("nv12"), PixelFormat::NV12);
    EXPECT_FALSE(pixelFormatFromString("RGB16"));
}

TEST(Format, DefaultLayoutAlignsRowsAndStacksPlanes) {
    auto nv12 = Format::make(PixelFormat::NV12, 1920, 1080, {30, 1});
    ASSERT_TRUE(nv12) << nv12.error().message;
    EXPECT_EQ(nv12->planeCount, 2u);
    EXPECT_EQ(nv12->planes[0].stride, 1920u);
    EXPECT_EQ(nv12->planes[1].offset, 1920u * 1080u);
    EXPECT_EQ(nv12->planes[1].size, 1920u * 540u);
    EXPECT_EQ(nv12->frameSize, 1920u * 1080u * 3 / 2);

    auto rgb = Format::make(PixelFormat::RGB, 33, 7, {}, 64);
    ASSERT_TRUE(rgb);
    EXPECT_EQ(rgb->planes[0].stride, 128u);  // 99 bytes rounded up to 64
    EXPECT_EQ(rgb->rowBytes(0), 99u);

    auto i420 = Format::make(PixelFormat::I420, 641, 481, {}, 4);
    ASSERT_TRUE(i420);
    EXPECT_EQ(i420->planeRows(1), 241u);
    EXPECT_EQ(i420->rowBytes(1), 321u);
    EXPECT_EQ(i420->planes[1].stride, 324u);
}

TEST(Format, ImpossibleLayoutsAreRefusedNamingTheField) {
    EXPECT_FALSE(Format::make(PixelFormat::RGBA, 0, 10));
    EXPECT_FALSE(Format::make(PixelFormat::RGBA, 20000, 10));
    EXPECT_FALSE(Format::make(PixelFormat::RGBA, 10, 10, {}, 3));
    auto tooNarrow = Format::withLayout(PixelFormat::RGBA, 100, 10, {}, {{0, 100, 1000}}, 1000);
    ASSERT_FALSE(tooNarrow);
    EXPECT_NE(tooNarrow.error().message.find("planes[0].stride"), std::string::npos);
    auto pastEnd = Format::withLayout(PixelFormat::GRAY8, 10, 10, {}, {{50, 10, 100}}, 100);
    ASSERT_FALSE(pastEnd);
    EXPECT_NE(pastEnd.error().message.find("planes[0].offset"), std::string::npos);
    auto wrongPlanes = Format::withLayout(PixelFormat::NV12, 10, 10, {}, {{0, 10, 100}}, 100);
    ASSERT_FALSE(wrongPlanes);
    EXPECT_NE(wrongPlanes.error().message.find("planeCount"), std::string::npos);
}

TEST(Format, SizesParseAndBadOnesSayWhy) {
    auto size = parseSize("1280x720");
    ASSERT_TRUE(size);
    EXPECT_EQ(size->first, 1280u);
    EXPECT_EQ(size->second, 720u);
    for (const char* bad : {"", "1280", "x720", "1280x", "12a0x720", "0x10", "-5x10", "99999x10"}) {
        auto parsed = parseSize(bad);
        EXPECT_FALSE(parsed) << bad;
        if (!parsed) {
            EXPECT_EQ(parsed.error().code, Errc::InvalidArgument);
        }
    }
}
