// SPDX-License-Identifier: LGPL-2.1-or-later
// The picker lists live feeds as writers come and go.
#include <QTreeWidget>

#include <gtest/gtest.h>

#include "feed_picker.h"
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

}  // namespace
}  // namespace shmframe::viewer
