// SPDX-License-Identifier: LGPL-2.1-or-later
// One feed on screen: every format rendered as written, zero-copy painting, states,
// reconnect, format change, bad input, overlay, inspector, zoom and pan by mouse.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <thread>

#include <QApplication>
#include <QImageReader>
#include <QMouseEvent>
#include <QWheelEvent>

#include <gtest/gtest.h>

#include "feed_view.h"
#include "test_support.h"
#include "viewer_test_support.h"
#include "viewfinder_qimage.h"

namespace shmframe::viewer {
namespace {

using namespace std::chrono_literals;
using test::PatternWriter;
using test::waitFor;

// Odd bar widths (41) and rows padded by the default stride alignment exercise strides.
constexpr int kWidth = 328;
constexpr int kHeight = 240;

Format formatOf(PixelFormat pixelFormat, std::uint32_t width = kWidth,
                std::uint32_t height = kHeight) {
    auto format = Format::make(pixelFormat, width, height, {100, 1});
    EXPECT_TRUE(format) << format.error().message;
    return *format;
}

std::unique_ptr<FeedView> showFeed(const QString& feed, PainterKind painter,
                                   QSize size = {kWidth, kHeight}) {
    FeedView::Options options;
    options.painter = painter;
    options.retryDelay = 100ms;
    auto view = std::make_unique<FeedView>(feed, options);
    view->resize(size);
    view->show();
    return view;
}

QImage grabView(FeedView& view) {
    return view.grab().toImage().convertToFormat(QImage::Format_RGB32);
}

// Checks the bar centres on the top, middle and bottom rows of a pixel-exact view.
void expectBars(const QImage& shot, const Format& format) {
    ASSERT_EQ(shot.size(), QSize(int(format.width), int(format.height)));
    const int barWidth = int(format.width) / test::kBars;
    for (int y : {0, int(format.height) / 2, int(format.height) - 1}) {
        for (int bar = 0; bar < test::kBars; ++bar) {
            const int x = bar * barWidth + barWidth / 2;
            const QRgb expected = test::expectedColor(format, bar);
            EXPECT_TRUE(
                test::closeTo(shot.pixel(x, y), expected, test::tolerance(format.pixelFormat)))
                << toString(format.pixelFormat) << " bar " << bar << " at " << x << "," << y
                << ": got " << std::hex << shot.pixel(x, y) << " expected " << expected;
        }
    }
}

struct RenderCase {
    PixelFormat format;
    PainterKind painter;
};

void PrintTo(const RenderCase& param, std::ostream* out) {
    *out << toString(param.format) << " with " << toString(param.painter);
}

class EachFormat : public testing::TestWithParam<RenderCase> {};

TEST_P(EachFormat, ViewShowsTheWrittenPattern) {
    const RenderCase param = GetParam();
    if (param.painter == PainterKind::OpenGl && !openGlAvailable())
        GTEST_SKIP() << "no OpenGL on this platform; the Xvfb script test covers it";
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(param.format);
    auto writer = PatternWriter::start("bars", format);
    ASSERT_TRUE(writer);
    auto view = showFeed("bars", param.painter);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 2; }))
        << "state " << toString(view->state()) << " " << view->problem().toStdString();
    EXPECT_EQ(view->state(), FeedView::State::Live);
    EXPECT_TRUE(view->bannerText().isEmpty()) << view->bannerText().toStdString();
    EXPECT_EQ(view->viewfinder()->kind(), resolvePainter(param.painter, param.format));
    expectBars(grabView(*view), format);
}

std::vector<RenderCase> allRenderCases() {
    std::vector<RenderCase> cases;
    for (PainterKind painter : {PainterKind::QImage, PainterKind::OpenGl})
        for (PixelFormat format : allPixelFormats())
            if (format != PixelFormat::Unknown)
                cases.push_back({format, painter});
    return cases;
}

INSTANTIATE_TEST_SUITE_P(Formats, EachFormat, testing::ValuesIn(allRenderCases()),
                         [](const auto& param) {
                             return std::string(toString(param.param.format)) + "_" +
                                    toString(param.param.painter);
                         });

class RgbFormat : public testing::TestWithParam<PixelFormat> {};

TEST_P(RgbFormat, FramesArePaintedStraightFromTheSlotWithoutACopy) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("zero", formatOf(GetParam()));
    ASSERT_TRUE(writer);
    auto view = showFeed("zero", PainterKind::QImage);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));
    auto* viewfinder = dynamic_cast<ViewfinderQImage*>(view->viewfinder());
    ASSERT_NE(viewfinder, nullptr);
    ASSERT_TRUE(viewfinder->frame());
    EXPECT_FALSE(viewfinder->frame()->isCopy());
    // The image's pixels are the slot's bytes in the writer's shared memory.
    EXPECT_EQ(static_cast<const void*>(viewfinder->shownImage().constBits()),
              static_cast<const void*>(viewfinder->frame()->plane(0).data()));
    EXPECT_EQ(viewfinder->shownImage().bytesPerLine(),
              qsizetype(viewfinder->frame()->format().planes[0].stride));
}

TEST_P(RgbFormat, SavedFrameIsPixelExact) {
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(GetParam());
    auto writer = PatternWriter::start("exact", format);
    ASSERT_TRUE(writer);
    auto view = showFeed("exact", PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));
    const QString path = QString::fromStdString(dir.path() + "/frame.png");
    ASSERT_TRUE(view->saveFrame(path));
    QImage saved(path);
    ASSERT_FALSE(saved.isNull());
    ASSERT_EQ(saved.size(), QSize(kWidth, kHeight));
    if (GetParam() == PixelFormat::GRAY16_LE) {
        // 16 bits kept: high byte the bar's grey, low byte the pattern's 0x40.
        ASSERT_EQ(saved.format(), QImage::Format_Grayscale16);
        for (int y = 0; y < kHeight; y += 7)
            for (int x = 0; x < kWidth; ++x) {
                const auto* row = reinterpret_cast<const quint16*>(saved.constScanLine(y));
                ASSERT_EQ(row[x], test::barGray(test::barAt(x, kWidth)) * 256 + 0x40)
                    << x << "," << y;
            }
        return;
    }
    const QImage rgb = saved.convertToFormat(QImage::Format_ARGB32);
    for (int y = 0; y < kHeight; y += 7)
        for (int x = 0; x < kWidth; ++x)
            ASSERT_EQ(rgb.pixel(x, y), test::expectedColor(format, test::barAt(x, kWidth)))
                << x << "," << y;
}

INSTANTIATE_TEST_SUITE_P(Formats, RgbFormat,
                         testing::Values(PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::RGBx,
                                         PixelFormat::BGRx, PixelFormat::RGB, PixelFormat::BGR,
                                         PixelFormat::GRAY8, PixelFormat::GRAY16_LE),
                         [](const auto& param) { return std::string(toString(param.param)); });

TEST(FeedView, UnknownFeedSaysWaitingForWriterThenShowsItWhenItStarts) {
    shmframe::test::TempFeedDir dir;
    auto view = showFeed("late", PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] { return view->state() == FeedView::State::WaitingForWriter; }))
        << toString(view->state()) << " " << view->problem().toStdString();
    EXPECT_TRUE(view->bannerText().startsWith(QStringLiteral("waiting for writer")));
    EXPECT_EQ(view->framesReceived(), 0u);

    const Format format = formatOf(PixelFormat::RGBx);
    auto writer = PatternWriter::start("late", format);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }))
        << toString(view->state()) << " " << view->problem().toStdString();
    EXPECT_EQ(view->state(), FeedView::State::Live);
    expectBars(grabView(*view), format);
}

TEST(FeedView, KeepsTheLastFrameWhenTheWriterGoesAndReconnectsWhenItRestarts) {
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(PixelFormat::BGRx);
    auto writer = PatternWriter::start("cam", format);
    ASSERT_TRUE(writer);
    auto view = showFeed("cam", PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));

    writer.reset();  // the writer ends
    ASSERT_TRUE(waitFor([&] { return view->state() == FeedView::State::WriterGone; }))
        << toString(view->state());
    EXPECT_EQ(view->bannerText(), QStringLiteral("writer gone — showing last frame"));
    ASSERT_TRUE(view->shownFormat());
    // The last frame stays on screen, bars and all, under the banner.
    const QImage shot = grabView(*view);
    EXPECT_EQ(shot.pixel(20, 5), test::barColor(0));
    EXPECT_EQ(shot.pixel(kWidth - 20, kHeight - 5), test::barColor(7));

    const std::uint64_t before = view->framesReceived();
    writer = PatternWriter::start("cam", format);  // a new writer process would do the same
    ASSERT_TRUE(writer);
    ASSERT_TRUE(waitFor([&] { return view->framesReceived() > before + 2; }))
        << toString(view->state()) << " " << view->problem().toStdString();
    EXPECT_EQ(view->state(), FeedView::State::Live);
    EXPECT_TRUE(view->bannerText().isEmpty());
    ASSERT_TRUE(view->readerStats());
    EXPECT_GE(view->readerStats()->reconnects, 1u);
}

TEST(FeedView, ReconnectsToAWriterInAnotherProcessThatWasKilled) {
    shmframe::test::TempFeedDir dir;
    const Format format = formatOf(PixelFormat::RGBA);
    // The writer is a separate program, killed for real.
    const auto startWriter = [] {
        return shmframe::test::Child::spawn(
            VIEWER_TEST_WRITER,
            {"--feed", "proc", "--format", "RGBA", "--size", "328x240", "--fps", "100"},
            /*quiet=*/true);
    };
    auto child = startWriter();
    auto view = showFeed("proc", PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }))
        << toString(view->state()) << " " << view->problem().toStdString();
    child.kill();  // SIGKILL: no goodbye from the writer
    ASSERT_TRUE(waitFor([&] { return view->state() == FeedView::State::WriterGone; },
                        std::chrono::seconds(60)))
        << toString(view->state());
    const std::uint64_t before = view->framesReceived();
    child = startWriter();
    // A deadline for failure only: a new process on a loaded machine can take long.
    ASSERT_TRUE(waitFor([&] { return view->framesReceived() > before; }, std::chrono::seconds(60)))
        << toString(view->state()) << " " << view->problem().toStdString();
    EXPECT_EQ(view->state(), FeedView::State::Live);
    expectBars(grabView(*view), format);
}

TEST(FeedView, SaysFormatChangedAndShowsTheNewFormat) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("switch", formatOf(PixelFormat::RGBA));
    ASSERT_TRUE(writer);
    auto view = showFeed("switch", PainterKind::QImage);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));

    const Format next = formatOf(PixelFormat::NV12);
    ASSERT_TRUE(writer->reconfigure(next));
    ASSERT_TRUE(waitFor([&] {
        return view->shownFormat() && view->shownFormat()->pixelFormat == PixelFormat::NV12;
    }));
    EXPECT_TRUE(view->bannerText().startsWith(QStringLiteral("format changed")))
        << view->bannerText().toStdString();
    EXPECT_TRUE(view->bannerText().contains(QStringLiteral("RGBA 328x240 → NV12 328x240")));
    // Bars in the new format (the banner sits in the middle: look at the top row).
    const QImage shot = grabView(*view);
    for (int bar = 0; bar < test::kBars; ++bar)
        EXPECT_TRUE(test::closeTo(shot.pixel(bar * 41 + 20, 2), test::barColor(bar), 6)) << bar;
}

TEST(FeedView, ActualSizeOptionShowsTheFrameOneToOneInABiggerView) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("one", formatOf(PixelFormat::RGBA));
    ASSERT_TRUE(writer);
    FeedView::Options options;
    options.actualSize = true;
    FeedView view("one", options);
    view.resize(2 * kWidth, 2 * kHeight);
    view.show();
    ASSERT_TRUE(waitFor([&] { return view.framesPainted() >= 1; }));
    const ViewGeometry& geo = view.viewfinder()->viewGeometry();
    EXPECT_TRUE(geo.isPixelExact());
    const QImage shot = grabView(view);
    const QPoint origin = geo.offset().toPoint();
    EXPECT_EQ(origin, QPoint(kWidth / 2, kHeight / 2));
    for (int bar = 0; bar < test::kBars; ++bar)
        EXPECT_EQ(shot.pixel(origin + QPoint(bar * 41 + 20, 10)), test::barColor(bar)) << bar;
    EXPECT_EQ(shot.pixel(origin - QPoint(1, 1)), qRgb(0, 0, 0));  // black around it
}

// Runs where OpenGL exists (the Xvfb script test runs the *opengl* cases).
TEST(FeedView, AutoPainterMovesToOpenglForYuvAndBackForRgb) {
    if (!openGlAvailable())
        GTEST_SKIP() << "no OpenGL on this platform; the Xvfb script test covers it";
    qputenv("SHMFRAME_VIEWER_GL_IS_HARDWARE", "1");
    struct Restore {
        ~Restore() { qunsetenv("SHMFRAME_VIEWER_GL_IS_HARDWARE"); }
    } restore;
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("auto", formatOf(PixelFormat::RGBA));
    ASSERT_TRUE(writer);
    auto view = showFeed("auto", PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));
    EXPECT_EQ(view->viewfinder()->kind(), PainterKind::QImage);

    for (PixelFormat next : {PixelFormat::I420, PixelFormat::BGR}) {
        const Format format = formatOf(next);
        ASSERT_TRUE(writer->reconfigure(format));
        ASSERT_TRUE(waitFor(
            [&] { return view->shownFormat() && view->shownFormat()->pixelFormat == next; }));
        const std::uint64_t painted = view->framesPainted();
        ASSERT_TRUE(waitFor([&] { return view->framesPainted() > painted + 1; }));
        EXPECT_EQ(view->viewfinder()->kind(),
                  isYuv(next) ? PainterKind::OpenGl : PainterKind::QImage);
        // The bars on the top row (the "format changed" banner is in the middle).
        const QImage shot = grabView(*view);
        for (int bar = 0; bar < test::kBars; ++bar)
            EXPECT_TRUE(test::closeTo(shot.pixel(bar * 41 + 20, 2), test::barColor(bar), 6))
                << toString(next) << " bar " << bar;
    }
}

TEST(FeedView, InvalidFeedNameIsAMessageNotACrash) {
    shmframe::test::TempFeedDir dir;
    auto view = showFeed("no/such feed!", PainterKind::Auto);
    EXPECT_EQ(view->state(), FeedView::State::Failed);
    EXPECT_TRUE(view->problem().contains(QStringLiteral("not a feed name")))
        << view->problem().toStdString();
    EXPECT_TRUE(view->bannerText().contains(QStringLiteral("not a feed name")));
    test::runEventsFor(200ms);  // hopeless: no retry loop
    EXPECT_EQ(view->state(), FeedView::State::Failed);
    EXPECT_FALSE(view->grab().isNull());
}

// A "writer" that accepts readers and answers with garbage.
class GarbageWriter {
  public:
    explicit GarbageWriter(const std::string& socketPath) {
        for (int type : {SOCK_SEQPACKET, SOCK_STREAM}) {
            fd_ = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            socketPath.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
            if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                ::listen(fd_, 8) == 0)
                break;
            ::close(fd_);
            fd_ = -1;
        }
        thread_ = std::thread([this] {
            while (true) {
                const int peer = ::accept(fd_, nullptr, nullptr);
                if (peer < 0)
                    return;
                ++accepted_;
                // Read the reader's hello, answer nonsense, wait for it to hang up.
                char hello[4096];
                (void)!::recv(peer, hello, sizeof(hello), 0);
                const char garbage[] = "this is not the shmframe protocol \xff\xfe\x00\x01";
                (void)!::send(peer, garbage, sizeof(garbage), MSG_NOSIGNAL);
                pollfd hangup{peer, POLLIN, 0};
                (void)!::poll(&hangup, 1, 2000);
                ::close(peer);
            }
        });
    }
    ~GarbageWriter() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    int accepted() const { return accepted_; }

  private:
    int fd_ = -1;
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

TEST(FeedView, AWriterSpeakingGarbageIsReportedAndRetriedNotACrash) {
    shmframe::test::TempFeedDir dir;
    auto socketPath = socketPathFor("garbled");
    ASSERT_TRUE(socketPath);
    GarbageWriter garbage(*socketPath);
    auto view = showFeed(QString::fromStdString(*socketPath), PainterKind::Auto);
    ASSERT_TRUE(waitFor([&] {
        return view->state() == FeedView::State::Failed && garbage.accepted() >= 2;
    })) << toString(view->state())
        << ", accepted " << garbage.accepted() << ", problem " << view->problem().toStdString();
    EXPECT_FALSE(view->problem().isEmpty());
    EXPECT_TRUE(view->bannerText().contains(QStringLiteral("retrying")));
    EXPECT_EQ(view->framesReceived(), 0u);
    EXPECT_FALSE(view->grab().isNull());
}

TEST(FeedView, OverlayShowsSizeFormatRateLatencyAndWriterPid) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("stats", formatOf(PixelFormat::RGBA));
    ASSERT_TRUE(writer);
    auto view = showFeed("stats", PainterKind::QImage);
    view->setOverlayVisible(true);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 5; }));
    test::runEventsFor(600ms);  // let the overlay timer refresh the rate
    const QStringList lines = view->viewfinder()->decoration().overlay;
    const QString all = lines.join(QLatin1Char('\n'));
    EXPECT_TRUE(all.contains(QStringLiteral("stats — live"))) << all.toStdString();
    EXPECT_TRUE(all.contains(QStringLiteral("328x240 RGBA"))) << all.toStdString();
    EXPECT_TRUE(all.contains(QStringLiteral("fps (writer says 100/1)"))) << all.toStdString();
    EXPECT_TRUE(all.contains(QStringLiteral("publish→paint"))) << all.toStdString();
    EXPECT_TRUE(all.contains(QStringLiteral("skipped"))) << all.toStdString();
    EXPECT_TRUE(all.contains(QStringLiteral("writer pid %1").arg(getpid()))) << all.toStdString();
    EXPECT_GT(view->latency().count, 0u);

    view->setOverlayVisible(false);
    EXPECT_TRUE(view->viewfinder()->decoration().overlay.isEmpty());
}

TEST(FeedView, InspectorShowsThePixelUnderTheCursor) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("probe", formatOf(PixelFormat::NV12));
    ASSERT_TRUE(writer);
    auto view = showFeed("probe", PainterKind::QImage);
    view->setInspectorEnabled(true);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));
    QWidget* target = view->viewfinder()->widget();
    const QPointF at(5 * 41 + 20.5, 100.5);  // bar 5: red, at 1:1
    QMouseEvent move(QEvent::MouseMove, at, target->mapToGlobal(at), Qt::NoButton, Qt::NoButton,
                     Qt::NoModifier);
    QApplication::sendEvent(target, &move);
    const QString text = view->viewfinder()->decoration().inspector;
    EXPECT_TRUE(text.startsWith(QStringLiteral("x 225 y 100   NV12 Y=81 U=90 V=240   RGB")))
        << text.toStdString();
}

TEST(FeedView, WheelZoomsAroundTheCursorAndDragPans) {
    shmframe::test::TempFeedDir dir;
    auto writer = PatternWriter::start("zoom", formatOf(PixelFormat::RGBx));
    ASSERT_TRUE(writer);
    auto view = showFeed("zoom", PainterKind::QImage);
    ASSERT_TRUE(waitFor([&] { return view->framesPainted() >= 1; }));
    QWidget* target = view->viewfinder()->widget();
    const ViewGeometry& geo = view->viewfinder()->viewGeometry();
    ASSERT_DOUBLE_EQ(geo.scale(), 1.0);

    const QPointF cursor(100, 50);
    const QPointF under = geo.viewToImage(cursor);
    QWheelEvent wheel(cursor, target->mapToGlobal(cursor), QPoint(), QPoint(0, 240), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(target, &wheel);
    EXPECT_DOUBLE_EQ(geo.scale(), 1.25 * 1.25);  // two notches
    EXPECT_NEAR(geo.viewToImage(cursor).x(), under.x(), 1e-6);
    EXPECT_NEAR(geo.viewToImage(cursor).y(), under.y(), 1e-6);

    const QPointF offset = geo.offset();
    const QPointF from(200, 120);
    const QPointF to(175, 130);
    QMouseEvent press(QEvent::MouseButtonPress, from, target->mapToGlobal(from), Qt::LeftButton,
                      Qt::LeftButton, Qt::NoModifier);
    QMouseEvent drag(QEvent::MouseMove, to, target->mapToGlobal(to), Qt::NoButton, Qt::LeftButton,
                     Qt::NoModifier);
    QMouseEvent release(QEvent::MouseButtonRelease, to, target->mapToGlobal(to), Qt::LeftButton,
                        Qt::NoButton, Qt::NoModifier);
    QApplication::sendEvent(target, &press);
    QApplication::sendEvent(target, &drag);
    QApplication::sendEvent(target, &release);
    EXPECT_EQ(geo.offset(), offset + (to - from));

    // The view's pixel under the cursor shows the frame pixel that was there.
    const QImage shot = grabView(*view);
    const QPointF now = geo.viewToImage(to);
    EXPECT_EQ(shot.pixel(to.toPoint()), test::barColor(test::barAt(int(now.x()), kWidth)));

    view->fitToView();
    EXPECT_DOUBLE_EQ(geo.scale(), 1.0);
    view->actualSize();
    EXPECT_TRUE(geo.isPixelExact());
}

}  // namespace
}  // namespace shmframe::viewer
