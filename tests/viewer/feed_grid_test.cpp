// SPDX-License-Identifier: LGPL-2.1-or-later
// The grid: equal cells whatever the feeds' sizes, a label per cell, focus on one.
#include <cmath>
#include <set>

#include <QAction>

#include <gtest/gtest.h>

#include "feed_grid.h"
#include "grid_layout.h"
#include "main_window.h"
#include "test_support.h"
#include "viewer_test_support.h"

namespace shmframe::viewer {
namespace {

using test::PatternWriter;
using test::waitFor;

TEST(GridLayout, ChoosesTheShapeThatShowsThePicturesLargest) {
    const GridParams wide{16.0 / 9.0, 2, 0};
    EXPECT_EQ(chooseGridShape(1, QSize(960, 640), wide), (GridShape{1, 1}));
    // Two 16:9 pictures in a 16:9 window: side by side; in a tall window: stacked.
    EXPECT_EQ(chooseGridShape(2, QSize(1280, 720), wide), (GridShape{2, 1}));
    EXPECT_EQ(chooseGridShape(2, QSize(720, 1280), wide), (GridShape{1, 2}));
    EXPECT_EQ(chooseGridShape(4, QSize(1280, 720), wide), (GridShape{2, 2}));
    EXPECT_EQ(chooseGridShape(9, QSize(1280, 720), wide), (GridShape{3, 3}));
    EXPECT_EQ(chooseGridShape(16, QSize(1280, 720), wide), (GridShape{4, 4}));
    // No whole empty row: 3 feeds never get a 2x3 grid.
    for (int count = 1; count <= 16; ++count) {
        for (const QSize window : {QSize(1280, 720), QSize(720, 1280), QSize(960, 640)}) {
            const GridShape shape = chooseGridShape(count, window, wide);
            EXPECT_GE(shape.columns * shape.rows, count);
            EXPECT_LT(shape.columns * shape.rows - count, shape.columns)
                << count << " feeds in " << window.width() << "x" << window.height();
        }
    }
}

TEST(GridLayout, CellsAreEqualApartAndInsideTheArea) {
    for (int count = 1; count <= 16; ++count) {
        const QSize area(1280, 720);
        const auto cells = gridCells(count, area, GridParams{16.0 / 9.0, 2, 20});
        ASSERT_EQ(int(cells.size()), count);
        for (std::size_t i = 0; i < cells.size(); ++i) {
            EXPECT_EQ(cells[i].size(), cells[0].size()) << count << " cells, cell " << i;
            EXPECT_TRUE(QRect(QPoint(0, 0), area).contains(cells[i])) << count;
            for (std::size_t j = 0; j < i; ++j)
                EXPECT_FALSE(cells[i].intersects(cells[j])) << count << ": " << i << "/" << j;
        }
    }
}

// Feeds of four sizes and three shapes (1280x720, 640x480, 360x640 portrait, 640x360)
// in the real window, for 1, 2, 3, 4 and 9 feeds: every cell the same size, each
// picture fitted into its cell with its own aspect.
class GridOfMixedFeeds : public ::testing::TestWithParam<int> {};

TEST_P(GridOfMixedFeeds, HasEqualCellsThatKeepEachFeedsAspect) {
    const int count = GetParam();
    shmframe::test::TempFeedDir dir;
    std::vector<std::unique_ptr<PatternWriter>> writers;
    QStringList names;
    const QSize sizes[] = {{1280, 720}, {640, 480}, {360, 640}, {640, 360}};
    for (int i = 0; i < count; ++i) {
        const QSize size = sizes[i % 4];
        auto format = Format::make(PixelFormat::RGBx, std::uint32_t(size.width()),
                                   std::uint32_t(size.height()), {10, 1});
        ASSERT_TRUE(format);
        names << QStringLiteral("feed%1").arg(i);
        writers.push_back(PatternWriter::start(names.back().toStdString(), *format, 10));
        ASSERT_TRUE(writers.back());
    }
    QStringList args{QStringLiteral("shmframe-viewer"), QStringLiteral("--window-size"),
                     QStringLiteral("960x640")};
    args << names;
    auto options = parseViewerOptions(args);
    ASSERT_TRUE(options);
    MainWindow window(*options);
    window.show();
    ASSERT_TRUE(waitFor([&] {
        for (FeedView* view : window.views())
            if (view->framesPainted() < 1)
                return false;
        return true;
    }));
    FeedGrid* grid = window.grid();
    const QRect area = grid->rect();
    std::vector<QRect> cells;
    for (FeedView* view : window.views()) {
        const QRect cell = grid->cellGeometry(view);
        ASSERT_FALSE(cell.isEmpty()) << view->feedName().toStdString();
        EXPECT_TRUE(area.contains(cell));
        for (const QRect& other : cells)
            EXPECT_FALSE(cell.intersects(other));
        if (!cells.empty()) {
            EXPECT_EQ(cell.size(), cells.front().size()) << view->feedName().toStdString();
        }
        cells.push_back(cell);

        // The picture: as large as the cell allows, the feed's own aspect.
        const auto format = view->shownFormat();
        ASSERT_TRUE(format);
        const QRectF picture = view->viewfinder()->viewGeometry().imageRectInView();
        const double aspect = double(format->width) / format->height;
        EXPECT_NEAR(picture.width() / picture.height(), aspect, 0.02);
        const QSizeF viewSize = view->viewfinder()->viewGeometry().viewSize();
        EXPECT_TRUE(std::abs(picture.width() - viewSize.width()) < 1.5 ||
                    std::abs(picture.height() - viewSize.height()) < 1.5);
    }
    // The cells use the window: a row of them spans its width (a 3x3 grid of 960x640
    // leaves no cell under 300 px wide), and no row is left empty.
    std::set<int> columnLefts;
    std::set<int> rowTops;
    for (const QRect& cell : cells) {
        columnLefts.insert(cell.left());
        rowTops.insert(cell.top());
    }
    const int columns = int(columnLefts.size());
    const int rows = int(rowTops.size());
    EXPECT_GE(cells.front().width(), (area.width() - 2 * (columns - 1)) / columns - 1)
        << columns << " columns";
    EXPECT_GE(columns * rows, count);
    EXPECT_LT(columns * rows - count, columns) << columns << "x" << rows;
    // A label per cell when there are several: name, size, fps.
    if (count > 1) {
        FeedView* second = window.views()[1];
        ASSERT_TRUE(waitFor([&] {
            return grid->labelText(second).startsWith(QStringLiteral("feed1 · 640x480 · "));
        })) << grid->labelText(second).toStdString();
        EXPECT_TRUE(grid->labelText(second).endsWith(QStringLiteral(" fps")));
    }
}

INSTANTIATE_TEST_SUITE_P(Feeds, GridOfMixedFeeds, ::testing::Values(1, 2, 3, 4, 9));

TEST(FeedGrid, DoubleClickOrEnterShowsOneFeedAloneAndBack) {
    shmframe::test::TempFeedDir dir;
    auto format = Format::make(PixelFormat::RGBA, 320, 240, {30, 1});
    ASSERT_TRUE(format);
    auto a = PatternWriter::start("a", *format, 30);
    auto b = PatternWriter::start("b", *format, 30);
    ASSERT_TRUE(a && b);
    auto options = parseViewerOptions({"shmframe-viewer", "a", "b"});
    ASSERT_TRUE(options);
    MainWindow window(*options);
    window.show();
    FeedView* second = window.views()[1];
    const QRect before = window.grid()->cellGeometry(second);
    ASSERT_LT(before.width(), window.grid()->width());

    // Double-click on the second feed: it alone fills the grid.
    Q_EMIT second->doubleClicked(second);
    EXPECT_EQ(window.grid()->focusedView(), second);
    EXPECT_EQ(window.grid()->cellGeometry(second), window.grid()->rect());
    EXPECT_TRUE(window.grid()->cellGeometry(window.views()[0]).isEmpty());
    EXPECT_EQ(window.currentView(), second);
    // Enter goes back to the grid.
    for (QAction* action : window.allActions())
        if (action->shortcuts().contains(QKeySequence(Qt::Key_Return)))
            action->trigger();
    EXPECT_EQ(window.grid()->focusedView(), nullptr);
    EXPECT_EQ(window.grid()->cellGeometry(second), before);
}

}  // namespace
}  // namespace shmframe::viewer
