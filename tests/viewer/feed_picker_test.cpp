// SPDX-License-Identifier: LGPL-2.1-or-later
// The picker lists live feeds as writers come and go.
#include <QTreeWidget>

#include <gtest/gtest.h>

#include <shmframe/feed.h>

#include "feed_picker.h"
#include "feed_thumbnails.h"
#include "test_support.h"
#include "viewer_test_support.h"

namespace shmframe::viewer {
namespace {

using test::PatternWriter;
using test::waitFor;

Format smallFormat(PixelFormat pixelFormat) {
    auto format = Format::make(pixelFormat, 64, 48, {25, 1});
    EXPECT_TRUE(format);
    return *format;
}

TEST(FeedPicker, ListsFeedsAsTheyStartAndDropsThemWhenTheyEnd) {
    shmframe::test::TempFeedDir dir;
    FeedPicker picker;
    picker.show();
    EXPECT_TRUE(picker.listedFeeds().isEmpty());

    auto alpha = PatternWriter::start("alpha", smallFormat(PixelFormat::RGBA), 25);
    ASSERT_TRUE(alpha);
    ASSERT_TRUE(waitFor([&] { return picker.listedFeeds() == QStringList{"alpha"}; }))
        << picker.listedFeeds().join(',').toStdString();

    auto beta = PatternWriter::start("beta", smallFormat(PixelFormat::NV12), 25);
    ASSERT_TRUE(beta);
    ASSERT_TRUE(waitFor([&] {
        return picker.listedFeeds() == QStringList({"alpha", "beta"});
    })) << picker.listedFeeds().join(',').toStdString();

    // The row tells size, format and writer pid.
    auto* list = picker.findChild<QTreeWidget*>();
    ASSERT_NE(list, nullptr);
    QTreeWidgetItem* row = list->topLevelItem(1);
    EXPECT_EQ(row->text(FeedPicker::Size), QStringLiteral("64x48"));
    EXPECT_EQ(row->text(FeedPicker::Format), QStringLiteral("NV12"));
    EXPECT_EQ(row->text(FeedPicker::WriterPid), QString::number(getpid()));
    EXPECT_TRUE(row->text(FeedPicker::Fps).endsWith(QStringLiteral("/ 25")))
        << row->text(FeedPicker::Fps).toStdString();

    alpha.reset();
    ASSERT_TRUE(waitFor([&] { return picker.listedFeeds() == QStringList{"beta"}; }))
        << picker.listedFeeds().join(',').toStdString();
    beta.reset();
    ASSERT_TRUE(waitFor([&] { return picker.listedFeeds().isEmpty(); }));
}

TEST(FeedPicker, ActivatingARowAsksToOpenThatFeed) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam0", smallFormat(PixelFormat::GRAY8), 25);
    ASSERT_TRUE(cam);
    FeedPicker picker;
    picker.show();
    ASSERT_TRUE(waitFor([&] { return picker.listedFeeds() == QStringList{"cam0"}; }));
    QStringList chosen;
    QObject::connect(&picker, &FeedPicker::feedsChosen,
                     [&](const QStringList& feeds) { chosen = feeds; });
    auto* list = picker.findChild<QTreeWidget*>();
    ASSERT_NE(list, nullptr);
    Q_EMIT list->itemActivated(list->topLevelItem(0), 0);
    EXPECT_EQ(chosen, QStringList{"cam0"});
}

TEST(FeedPicker, ShowsAThumbnailOfEachFeedsLatestFrameWithoutHoldingIt) {
    shmframe::test::TempFeedDir dir;
    auto format = Format::make(PixelFormat::NV12, 1280, 720, {30, 1});
    ASSERT_TRUE(format);
    auto cam = PatternWriter::start("cam0", *format, 30);
    ASSERT_TRUE(cam);
    FeedPicker picker;
    picker.show();
    ASSERT_TRUE(waitFor([&] { return !picker.thumbnail("cam0").isNull(); }));
    const QImage thumbnail = picker.thumbnail("cam0").toImage();
    // Small, the feed's aspect, and the bars in order along the middle row.
    EXPECT_EQ(thumbnail.size(), QSize(128, 72));
    const int y = thumbnail.height() / 2;
    for (int bar = 0; bar < test::kBars; ++bar) {
        const int x = (2 * bar + 1) * thumbnail.width() / (2 * test::kBars);
        const QColor expected(test::expectedColor(*format, bar));
        const QColor seen(thumbnail.pixel(x, y));
        EXPECT_NEAR(seen.red(), expected.red(), 8) << "bar " << bar;
        EXPECT_NEAR(seen.green(), expected.green(), 8) << "bar " << bar;
        EXPECT_NEAR(seen.blue(), expected.blue(), 8) << "bar " << bar;
    }
    // The row shows it too.
    auto* list = picker.findChild<QTreeWidget*>();
    ASSERT_NE(list, nullptr);
    EXPECT_FALSE(list->topLevelItem(0)->icon(FeedPicker::Name).isNull());
    // Hidden, the picker reads nothing: its reader is gone.
    picker.hide();
    ASSERT_TRUE(waitFor([&] {
        auto info = probeFeed("cam0");
        return info && info->readers == 0;
    }));
}

TEST(FeedPicker, ThumbnailsAreSampledToFitTheirBoxKeepingTheAspect) {
    auto format = Format::make(PixelFormat::RGBA, 640, 480, {});
    ASSERT_TRUE(format);
    std::vector<std::byte> pixels(format->frameSize);
    test::WritablePlanes planes{};
    FramePlanes read{};
    for (std::uint32_t p = 0; p < format->planeCount; ++p) {
        planes[p] =
            std::span<std::byte>(pixels).subspan(format->planes[p].offset, format->planes[p].size);
        read[p] = planes[p];
    }
    test::fillBars(*format, planes);
    const QImage thumbnail = sampleThumbnail(*format, read, QSize(128, 72));
    EXPECT_EQ(thumbnail.size(), QSize(96, 72));
    EXPECT_EQ(QColor(thumbnail.pixel(2, 36)), QColor(test::barColor(0)));
}

}  // namespace
}  // namespace shmframe::viewer
