// SPDX-License-Identifier: LGPL-2.1-or-later
// The window: grid of feeds, picker to grid, --snapshot / --after-frames, options.
#include <QAction>
#include <QDialog>
#include <QFile>
#include <QSettings>
#include <QTableWidget>

#include <shmframe/version.h>
#include <QSet>

#include <gtest/gtest.h>

#include <filesystem>

#include "feed_grid.h"
#include "feed_picker.h"
#include "help_dialogs.h"
#include "main_window.h"
#include "test_support.h"
#include "viewer_test_support.h"

namespace shmframe::viewer {
namespace {

using namespace std::chrono_literals;
using test::PatternWriter;
using test::waitFor;

Format barsFormat(PixelFormat pixelFormat) {
    auto format = Format::make(pixelFormat, 320, 240, {100, 1});
    EXPECT_TRUE(format);
    return *format;
}

ViewerOptions parse(QStringList args) {
    args.prepend(QStringLiteral("shmframe-viewer"));
    auto options = parseViewerOptions(args);
    EXPECT_TRUE(options) << options.error().message;
    return options ? *options : ViewerOptions{};
}

std::string parseError(QStringList args) {
    args.prepend(QStringLiteral("shmframe-viewer"));
    auto options = parseViewerOptions(args);
    EXPECT_FALSE(options);
    return options ? std::string() : options.error().message;
}

TEST(ViewerOptions, ParsesEveryOption) {
    const ViewerOptions o =
        parse({"cam0", "cam1", "--snapshot", "out.png", "--after-frames", "5", "--timeout", "2.5",
               "--fullscreen", "--overlay", "--inspector", "--actual-size", "--painter", "qimage",
               "--stats-file", "s.json", "--window-size", "800x600"});
    EXPECT_EQ(o.feeds, QStringList({"cam0", "cam1"}));
    EXPECT_EQ(o.snapshotPath, QStringLiteral("out.png"));
    EXPECT_EQ(o.afterFrames, 5u);
    EXPECT_EQ(o.timeout, 2500ms);
    EXPECT_TRUE(o.fullscreen && o.overlay && o.inspector && o.actualSize);
    EXPECT_EQ(o.painter, PainterKind::QImage);
    EXPECT_EQ(o.statsPath, QStringLiteral("s.json"));
    EXPECT_EQ(o.windowSize, QSize(800, 600));
    EXPECT_EQ(parse({"cam0", "--snapshot", "x.png"}).afterFrames, 1u);
}

TEST(ViewerOptions, BadValuesAreRefusedWithAMessageNamingTheOption) {
    EXPECT_NE(parseError({"cam0", "--after-frames", "ten"}).find("--after-frames"),
              std::string::npos);
    EXPECT_NE(parseError({"cam0", "--after-frames", "0"}).find("--after-frames"),
              std::string::npos);
    EXPECT_NE(parseError({"cam0", "--painter", "vulkan"}).find("--painter"), std::string::npos);
    EXPECT_NE(parseError({"--snapshot", "x.png"}).find("at least one FEED"), std::string::npos);
    EXPECT_NE(parseError({"cam0", "--timeout", "-1"}).find("--timeout"), std::string::npos);
    EXPECT_NE(parseError({"cam0", "--window-size", "big"}).find("--window-size"),
              std::string::npos);
    EXPECT_NE(parseError({"--no-such-option"}).find("no-such-option"), std::string::npos);
}

TEST(MainWindow, ShowsSeveralFeedsInAGrid) {
    shmframe::test::TempFeedDir dir;
    auto a = PatternWriter::start("a", barsFormat(PixelFormat::RGBA));
    auto b = PatternWriter::start("b", barsFormat(PixelFormat::NV12));
    auto c = PatternWriter::start("c", barsFormat(PixelFormat::GRAY8));
    ASSERT_TRUE(a && b && c);
    ViewerOptions options = parse({"a", "b", "c"});
    MainWindow window(options);
    window.show();
    ASSERT_EQ(window.views().size(), 3);
    ASSERT_TRUE(waitFor([&] {
        for (FeedView* view : window.views())
            if (view->framesPainted() < 1)
                return false;
        return true;
    }));
    // Three 4:3 feeds in a 960x640 area: a 2x2 grid, a b / c.
    const QRect first = window.grid()->cellGeometry(window.views()[0]);
    const QRect third = window.grid()->cellGeometry(window.views()[2]);
    EXPECT_EQ(third.left(), first.left());
    EXPECT_GT(third.top(), first.bottom());
    EXPECT_EQ(window.currentView(), window.views()[0]);
    EXPECT_TRUE(window.views()[0]->viewfinder()->decoration().highlighted);
}

TEST(MainWindow, PickingAFeedOpensIt) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::RGB));
    ASSERT_TRUE(cam);
    MainWindow window(parse({}));
    window.show();
    ASSERT_NE(window.picker(), nullptr);
    ASSERT_TRUE(waitFor([&] { return window.picker()->listedFeeds().contains("cam"); }));
    Q_EMIT window.picker()->feedsChosen({"cam"});
    ASSERT_EQ(window.views().size(), 1);
    ASSERT_TRUE(waitFor([&] { return window.views()[0]->framesPainted() >= 1; }));
}

TEST(MainWindow, SnapshotAfterFramesWritesWhatTheWindowShowsAndFinishes) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::BGRx));
    ASSERT_TRUE(cam);
    const QString path = QString::fromStdString(dir.path() + "/shot.png");
    MainWindow window(parse({"cam", "--snapshot", path, "--after-frames", "3"}));
    int exitCode = -1;
    QObject::connect(&window, &MainWindow::finished, [&](int code) { exitCode = code; });
    window.show();
    ASSERT_TRUE(waitFor([&] { return exitCode >= 0; }));
    EXPECT_EQ(exitCode, 0);
    EXPECT_GE(window.views()[0]->framesPainted(), 3u);
    QImage shot(path);
    ASSERT_FALSE(shot.isNull());
    EXPECT_EQ(shot.size(), window.viewArea()->size());
    // Every bar colour appears on the middle row of what was on screen.
    shot = shot.convertToFormat(QImage::Format_RGB32);
    QSet<QRgb> seen;
    for (int x = 0; x < shot.width(); ++x)
        seen.insert(shot.pixel(x, shot.height() / 2));
    for (int bar = 0; bar < test::kBars; ++bar)
        EXPECT_TRUE(seen.contains(test::barColor(bar))) << "bar " << bar;
}

TEST(MainWindow, SnapshotOfAFeedThatNeverComesFailsWithAMessage) {
    shmframe::test::TempFeedDir dir;
    const QString path = QString::fromStdString(dir.path() + "/never.png");
    MainWindow window(parse({"nobody", "--snapshot", path, "--timeout", "0.3"}));
    int exitCode = -1;
    QObject::connect(&window, &MainWindow::finished, [&](int code) { exitCode = code; });
    window.show();
    ASSERT_TRUE(waitFor([&] { return exitCode >= 0; }));
    EXPECT_NE(exitCode, 0);
    EXPECT_FALSE(QFile::exists(path));
}

TEST(MainWindow, SnapshotToAnUnwritablePlaceFailsWithAMessage) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::RGBA));
    ASSERT_TRUE(cam);
    const QString path = QString::fromStdString(dir.path() + "/no/such/dir/shot.png");
    MainWindow window(parse({"cam", "--snapshot", path}));
    int exitCode = -1;
    QObject::connect(&window, &MainWindow::finished, [&](int code) { exitCode = code; });
    window.show();
    ASSERT_TRUE(waitFor([&] { return exitCode >= 0; }));
    EXPECT_EQ(exitCode, 2);
}

TEST(MainWindow, SnapshotLeavesWhatIsNotARegularFileAlone) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::RGBA));
    ASSERT_TRUE(cam);
    const std::string folder = dir.path() + "/shot.png";
    ASSERT_TRUE(std::filesystem::create_directory(folder));
    MainWindow window(parse({"cam", "--snapshot", QString::fromStdString(folder)}));
    int exitCode = -1;
    QObject::connect(&window, &MainWindow::finished, [&](int code) { exitCode = code; });
    window.show();
    ASSERT_TRUE(waitFor([&] { return exitCode >= 0; }));
    EXPECT_EQ(exitCode, 2);
    EXPECT_TRUE(std::filesystem::is_directory(folder));
}

TEST(MainWindow, StatsAreJsonWithLatencyAndFrameCounts) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::RGBA));
    ASSERT_TRUE(cam);
    MainWindow window(parse({"cam", "--after-frames", "40"}));
    int exitCode = -1;
    QObject::connect(&window, &MainWindow::finished, [&](int code) { exitCode = code; });
    window.show();
    ASSERT_TRUE(waitFor([&] { return exitCode >= 0; }));
    ASSERT_EQ(exitCode, 0);
    const QByteArray json = window.statsJson();
    EXPECT_TRUE(json.contains("\"frames_painted\"")) << json.toStdString();
    EXPECT_TRUE(json.contains("\"publish_to_paint_ns\"")) << json.toStdString();
    EXPECT_TRUE(json.contains("\"cpu_ns_per_painted_frame\"")) << json.toStdString();
}

TEST(MainWindow, APausedViewHoldsNoSlotSoTheWriterNeverWaitsForIt) {
    shmframe::test::TempFeedDir dir;
    auto format = Format::make(PixelFormat::RGBA, 320, 240, {100, 1});
    ASSERT_TRUE(format);
    // Few slots, one lease per reader: a viewer that kept its frame would pin a third
    // of the pool.
    WriterOptions writerOptions;
    writerOptions.slotCount = 3;
    writerOptions.leaseLimit = 1;
    auto writer = Writer::create("cam", *format, writerOptions);
    ASSERT_TRUE(writer);
    auto publishOne = [&] {
        auto loan = writer->loan();
        if (!loan)
            return false;
        return bool(writer->publish(std::move(*loan)));
    };
    MainWindow window(parse({"cam"}));
    window.show();
    FeedView* view = window.views()[0];
    ASSERT_TRUE(waitFor([&] {
        publishOne();
        return view->framesPainted() >= 2;
    }));

    window.setPaused(true);
    EXPECT_TRUE(view->paused());
    EXPECT_EQ(view->viewfinder()->frame(), nullptr) << "a paused view still holds a lease";
    ASSERT_FALSE(view->frameImage()->isNull()) << "the last frame stays on screen";
    EXPECT_TRUE(window.statusText().contains(QStringLiteral("paused")));

    // The writer goes round its 3 slots many times while the view is paused, and
    // never has to take a slot back from it.
    const WriterStats before = writer->stats();
    const std::uint64_t receivedBefore = view->framesReceived();
    for (int i = 0; i < 60; ++i) {
        EXPECT_TRUE(publishOne()) << "loan " << i << " found no free slot";
        test::runEventsFor(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(waitFor([&] { return view->framesReceived() >= receivedBefore + 10; }));
    const WriterStats after = writer->stats();
    EXPECT_EQ(after.published, before.published + 60);
    EXPECT_EQ(after.loanFailures, before.loanFailures);
    EXPECT_EQ(after.revokedLeases, before.revokedLeases);
    EXPECT_EQ(view->readerStats()->revoked, 0u);
    EXPECT_EQ(view->viewfinder()->frame(), nullptr);
    const std::uint64_t paintedWhilePaused = view->framesPainted();

    // A step shows one new frame, still without holding it.
    window.stepFrame();
    ASSERT_TRUE(waitFor([&] {
        publishOne();
        return view->framesPainted() > paintedWhilePaused;
    }));
    EXPECT_EQ(view->viewfinder()->frame(), nullptr);
    EXPECT_TRUE(view->paused());

    // Resumed, frames are painted from the slots again.
    window.setPaused(false);
    const std::uint64_t paintedAtResume = view->framesPainted();
    ASSERT_TRUE(waitFor([&] {
        publishOne();
        return view->framesPainted() >= paintedAtResume + 2;
    }));
    EXPECT_NE(view->viewfinder()->frame(), nullptr);
}

TEST(MainWindow, StatusBarNamesFeedSizeFormatFpsLatencyAndDrops) {
    shmframe::test::TempFeedDir dir;
    auto cam = PatternWriter::start("cam", barsFormat(PixelFormat::NV12));
    ASSERT_TRUE(cam);
    MainWindow window(parse({"cam"}));
    window.show();
    ASSERT_TRUE(waitFor([&] { return window.views()[0]->framesPainted() >= 3; }));
    const QString status = window.statusText();
    for (const char* part : {"cam", "320x240", "NV12", " fps", "latency ", "dropped "})
        EXPECT_TRUE(status.contains(QLatin1String(part))) << part << " in " << status.toStdString();
}

TEST(MainWindow, HelpMenuHasAboutWithTheVersionsAndTheShortcuts) {
    const QString about = aboutText();
    EXPECT_TRUE(about.contains(QStringLiteral(SHMFRAME_VERSION_STRING)));
    EXPECT_TRUE(
        about.contains(QStringLiteral("protocol version</td><td>%1").arg(kProtocolVersion)));
    EXPECT_TRUE(about.contains(QLatin1String(qVersion())));
    MainWindow window(parse({}));
    QStringList texts;
    for (QAction* action : window.allActions())
        texts << action->text();
    EXPECT_TRUE(texts.contains(QStringLiteral("&Keyboard Shortcuts")));
    EXPECT_TRUE(texts.contains(QStringLiteral("&Pause")));
    EXPECT_TRUE(texts.contains(QStringLiteral("&Step One Frame")));
    std::unique_ptr<QDialog> dialog(createShortcutsDialog(window.allActions(), nullptr));
    auto* table = dialog->findChild<QTableWidget*>();
    ASSERT_NE(table, nullptr);
    QStringList keys;
    for (int row = 0; row < table->rowCount(); ++row)
        keys << table->item(row, 0)->text();
    EXPECT_TRUE(keys.contains(QKeySequence(Qt::Key_Space).toString(QKeySequence::NativeText)));
    EXPECT_TRUE(keys.contains(QStringLiteral("Double-click")));
}

TEST(MainWindow, RemembersTheWindowGeometryAndTheLastFeeds) {
    shmframe::test::TempFeedDir dir;
    viewerSettings()->clear();
    {
        MainWindow window(parse({"one", "two"}));
        window.show();
        window.resize(700, 500);
        window.close();
    }
    EXPECT_EQ(viewerSettings()->value(QStringLiteral("feeds/last")).toStringList(),
              QStringList({"one", "two"}));
    MainWindow again(parse({}));
    EXPECT_EQ(again.size(), QSize(700, 500));
    // The settings live in the test's own config dir, never the user's.
    EXPECT_TRUE(viewerSettings()->fileName().startsWith(qEnvironmentVariable("XDG_CONFIG_HOME")))
        << viewerSettings()->fileName().toStdString();
    viewerSettings()->clear();
}

}  // namespace
}  // namespace shmframe::viewer
