// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_view.h"

#include <algorithm>
#include <cstdio>

#include <QSocketNotifier>
#include <QVBoxLayout>

#include <shmframe/feed.h>

#include "image_file.h"
#include "pixel_probe.h"
#include "viewfinder_qimage.h"

namespace shmframe::viewer {

namespace {

using Clock = std::chrono::steady_clock;

// How many frames or events one wake-up handles before yielding to the event loop;
// the notifier fires again while the fd stays readable.
constexpr int kMaxEventsPerWakeup = 64;
// Wake-ups in a row that found nothing: a reader fd that stays readable with nothing
// to read would otherwise spin the GUI thread.
constexpr int kMaxEmptyWakeups = 200;
constexpr std::chrono::milliseconds kEmptyWakeupBackoff{20};
constexpr std::chrono::seconds kFormatChangeShown{3};
constexpr std::size_t kRecentLatencies = 120;
constexpr std::size_t kMaxLatencySamples = 1'000'000;

QString qs(std::string_view text) {
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

QString describeFormat(const Format& format) {
    return QStringLiteral("%1 %2x%3")
        .arg(qs(toString(format.pixelFormat)))
        .arg(format.width)
        .arg(format.height);
}

QString millis(std::uint64_t ns) {
    return QString::number(double(ns) / 1e6, 'f', 2) + QStringLiteral(" ms");
}

std::uint64_t percentile(std::vector<std::uint64_t>& sorted, double fraction) {
    if (sorted.empty())
        return 0;
    const auto index = std::min(sorted.size() - 1, std::size_t(fraction * double(sorted.size())));
    return sorted[index];
}

}  // namespace

const char* toString(FeedView::State state) {
    switch (state) {
        case FeedView::State::Opening:
            return "opening";
        case FeedView::State::WaitingForWriter:
            return "waiting for writer";
        case FeedView::State::Connected:
            return "connected";
        case FeedView::State::Live:
            return "live";
        case FeedView::State::WriterGone:
            return "writer gone";
        case FeedView::State::EndOfStream:
            return "end of stream";
        case FeedView::State::Failed:
            return "failed";
    }
    return "unknown";
}

FeedView::FeedView(const QString& feed, Options options, QWidget* parent)
    : QWidget(parent), feed_(feed), options_(options) {
    layout_ = new QVBoxLayout(this);
    layout_->setContentsMargins(0, 0, 0, 0);
    layout_->setSpacing(0);
    installViewfinder(
        createViewfinder(resolvePainter(options_.painter, PixelFormat::Unknown), this));
    if (options_.painter == PainterKind::OpenGl && !openGlAvailable())
        report(
            QStringLiteral("OpenGL is not available on this display; painting with QImage "
                           "(YUV converted on the CPU)"));

    retryTimer_.setSingleShot(true);
    connect(&retryTimer_, &QTimer::timeout, this, &FeedView::open);
    overlayTimer_.setInterval(500);
    connect(&overlayTimer_, &QTimer::timeout, this, &FeedView::updateDecoration);
    if (options_.overlay)
        overlayTimer_.start();
    wakeupBackoff_.setSingleShot(true);
    connect(&wakeupBackoff_, &QTimer::timeout, this, [this] {
        if (notifier_)
            notifier_->setEnabled(true);
    });

    open();
}

FeedView::~FeedView() {
    // The notifier must go before the reader that owns its fd.
    notifier_.reset();
    reader_.reset();
}

void FeedView::open() {
    closeReader();
    const std::string name = feed_.toStdString();
    if (auto valid = validateFeedName(name); !valid) {
        retryable_ = false;
        setProblem(
            QStringLiteral("'%1' is not a feed name: %2").arg(feed_, qs(valid.error().message)));
        setState(State::Failed);
        return;
    }
    ReaderOptions readerOptions;
    readerOptions.mode = ReadMode::Latest;
    readerOptions.waitForWriter = true;
    readerOptions.reconnect = true;
    readerOptions.clientName = "shmframe-viewer";
    auto reader = Reader::open(name, readerOptions);
    if (!reader) {
        retryable_ = reader.error().code != Errc::InvalidFeedName;
        setProblem(
            QStringLiteral("cannot read feed '%1': %2").arg(feed_, qs(reader.error().message)));
        setState(State::Failed);
        scheduleRetry();
        return;
    }
    reader_.emplace(std::move(*reader));
    const int fd = reader_->fd();
    if (fd < 0) {
        setProblem(
            QStringLiteral("cannot read feed '%1': the reader has no fd to wait on").arg(feed_));
        closeReader();
        setState(State::Failed);
        scheduleRetry();
        return;
    }
    notifier_ = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
    connect(notifier_.get(), &QSocketNotifier::activated, this, &FeedView::readerReadable);
    setProblem({});
    if (reader_->state() == ReaderState::WaitingForWriter) {
        setState(State::WaitingForWriter);
        report(QStringLiteral("no writer for feed '%1' yet (looking in %2); waiting for one")
                   .arg(feed_, qs(feedDirectory())));
    } else {
        if (auto writer = reader_->writer())
            writerPid_ = writer->pid;
        setState(State::Connected);
    }
    drain();
}

void FeedView::closeReader() {
    notifier_.reset();
    reader_.reset();
}

void FeedView::scheduleRetry() {
    if (retryable_)
        retryTimer_.start(options_.retryDelay);
}

void FeedView::readerReadable() {
    drain();
}

void FeedView::drain() {
    if (!reader_)
        return;
    int events = 0;
    for (int i = 0; i < kMaxEventsPerWakeup && reader_; ++i) {
        auto next = reader_->next(std::chrono::nanoseconds(0));
        if (next) {
            ++events;
            handleFrame(std::move(*next));
            continue;
        }
        const Errc code = next.error().code;
        if (code == Errc::WouldBlock || code == Errc::Timeout)
            break;
        ++events;
        if (!handleReadError(next.error()))
            break;
    }
    if (!reader_)
        return;

    // A writer that came (back) without a frame yet is news too.
    if (reader_->state() == ReaderState::Connected &&
        (state_ == State::WaitingForWriter || state_ == State::Opening ||
         state_ == State::WriterGone)) {
        if (auto writer = reader_->writer())
            writerPid_ = writer->pid;
        setState(State::Connected);
        ++events;
    }

    if (events > 0) {
        emptyWakeups_ = 0;
    } else if (++emptyWakeups_ >= kMaxEmptyWakeups && notifier_) {
        notifier_->setEnabled(false);
        wakeupBackoff_.start(kEmptyWakeupBackoff);
        emptyWakeups_ = 0;
    }
    // The library may hand a new fd after a reconnect.
    if (notifier_ && notifier_->socket() != reader_->fd()) {
        notifier_ = std::make_unique<QSocketNotifier>(reader_->fd(), QSocketNotifier::Read);
        connect(notifier_.get(), &QSocketNotifier::activated, this, &FeedView::readerReadable);
    }
}

void FeedView::handleFrame(Frame frame) {
    auto shared = std::make_shared<const Frame>(std::move(frame));
    const Format& format = shared->format();
    if (lastFormat_ && !(*lastFormat_ == format)) {
        formatChange_ = QStringLiteral("format changed\n%1 → %2")
                            .arg(describeFormat(*lastFormat_), describeFormat(format));
        formatChangeUntil_ = Clock::now() + kFormatChangeShown;
        QTimer::singleShot(kFormatChangeShown + std::chrono::milliseconds(50), this,
                           &FeedView::updateDecoration);
        report(QStringLiteral("feed '%1': format changed from %2 to %3")
                   .arg(feed_, describeFormat(*lastFormat_), describeFormat(format)));
    }
    lastFormat_ = format;
    ++framesReceived_;
    lastSequence_ = shared->meta().sequence;
    const auto now = Clock::now();
    frameTimes_.push_back(now);
    while (!frameTimes_.empty() && now - frameTimes_.front() > std::chrono::seconds(2))
        frameTimes_.pop_front();

    if (paused_) {
        // Paused: only a step shows a frame, as a copy; the lease goes with `shared`.
        if (stepPending_) {
            stepPending_ = false;
            if (auto image = frameToImage(format, planesOf(*shared))) {
                showStill(std::move(*image));
                ++framesPainted_;
                Q_EMIT framePainted();
            }
        }
        if (state_ != State::Live)
            setState(State::Live);
        return;
    }

    ensureViewfinderFor(format.pixelFormat);
    if (auto shown = viewfinder_->setFrame(std::move(shared)); !shown) {
        cannotShow_ = QStringLiteral("cannot show feed '%1' (%2): %3")
                          .arg(feed_, describeFormat(format), qs(shown.error().message));
        report(cannotShow_);
    } else {
        cannotShow_.clear();
        const QSize frameSize(int(format.width), int(format.height));
        if (options_.actualSize && actualSizeAppliedFor_ != frameSize) {
            actualSizeAppliedFor_ = frameSize;
            viewfinder_->actualSize();
        }
    }
    if (state_ != State::Live) {
        if (auto writer = reader_ ? reader_->writer() : std::nullopt)
            writerPid_ = writer->pid;
        setState(State::Live);
    } else if (options_.overlay || options_.inspector) {
        updateDecoration();
    }
}

bool FeedView::handleReadError(const Error& error) {
    switch (error.code) {
        case Errc::WriterGone:
            writerPid_ = 0;
            setState(State::WriterGone);
            report(QStringLiteral("writer of feed '%1' is gone; showing the last frame until "
                                  "it comes back")
                       .arg(feed_));
            return true;
        case Errc::EndOfStream:
            setState(State::EndOfStream);
            report(QStringLiteral("feed '%1' reached end of stream").arg(feed_));
            return true;
        default:
            break;
    }
    setProblem(QStringLiteral("feed '%1': %2 (%3)")
                   .arg(feed_, qs(error.message), qs(toString(error.code))));
    closeReader();
    setState(State::Failed);
    scheduleRetry();
    return false;
}

void FeedView::setState(State state) {
    if (state == state_) {
        updateDecoration();
        return;
    }
    state_ = state;
    if (state != State::Failed)
        lastReport_.clear();
    updateDecoration();
    Q_EMIT stateChanged(this);
}

void FeedView::setProblem(const QString& problem) {
    problem_ = problem;
    if (!problem.isEmpty())
        report(problem + (retryable_ ? QStringLiteral("; retrying") : QString()));
}

void FeedView::report(const QString& message) {
    if (message == lastReport_)
        return;
    lastReport_ = message;
    std::fprintf(stderr, "shmframe-viewer: %s\n", message.toLocal8Bit().constData());
    std::fflush(stderr);
}

void FeedView::ensureViewfinderFor(PixelFormat format) {
    const PainterKind wanted = resolvePainter(options_.painter, format);
    if (viewfinder_ && viewfinder_->kind() == wanted)
        return;
    auto replacement = createViewfinder(wanted, this);
    if (!replacement)
        replacement = createViewfinder(PainterKind::QImage, this);
    installViewfinder(std::move(replacement));
}

void FeedView::installViewfinder(std::unique_ptr<Viewfinder> viewfinder) {
    if (viewfinder_) {
        viewfinder->copyGeometry(*viewfinder_);
        layout_->removeWidget(viewfinder_->widget());
    }
    Viewfinder::Callbacks callbacks;
    callbacks.framePainted = [this](const FrameMeta& meta, std::uint64_t paintTimeNs) {
        onFramePainted(meta, paintTimeNs);
    };
    callbacks.hover = [this](std::optional<QPoint> pixel) { onHover(pixel); };
    callbacks.activated = [this] { Q_EMIT activated(this); };
    callbacks.doubleClicked = [this] { Q_EMIT doubleClicked(this); };
    viewfinder->setCallbacks(std::move(callbacks));
    layout_->addWidget(viewfinder->widget());
    viewfinder->widget()->show();
    viewfinder_ = std::move(viewfinder);
    updateDecoration();
}

void FeedView::onFramePainted(const FrameMeta& meta, std::uint64_t paintTimeNs) {
    ++framesPainted_;
    if (meta.publishTimeNs != 0 && paintTimeNs >= meta.publishTimeNs) {
        lastLatencyNs_ = paintTimeNs - meta.publishTimeNs;
        if (latencies_.size() < kMaxLatencySamples)
            latencies_.push_back(lastLatencyNs_);
    }
    if (viewfinder_ && viewfinder_->lastConversionNs() > 0 &&
        conversions_.size() < kMaxLatencySamples)
        conversions_.push_back(viewfinder_->lastConversionNs());
    Q_EMIT framePainted();
}

void FeedView::onHover(std::optional<QPoint> pixel) {
    hoverPixel_ = pixel;
    if (options_.inspector)
        updateDecoration();
}

double FeedView::measuredFps() const {
    if (frameTimes_.empty())
        return 0.0;
    const auto now = Clock::now();
    const auto windowStart = now - std::chrono::seconds(1);
    auto first = std::lower_bound(frameTimes_.begin(), frameTimes_.end(), windowStart);
    const auto count = std::distance(first, frameTimes_.end());
    if (count < 2)
        return 0.0;
    const double seconds = std::chrono::duration<double>(frameTimes_.back() - *first).count();
    return seconds > 0.0 ? double(count - 1) / seconds : 0.0;
}

QString FeedView::bannerText() const {
    const bool hasFrame = viewfinder_ && viewfinder_->frame();
    switch (state_) {
        case State::Failed:
            return problem_ + (retryable_ ? QStringLiteral("\nretrying…") : QString());
        case State::Opening:
            return QStringLiteral("opening feed '%1'…").arg(feed_);
        case State::WaitingForWriter:
            return QStringLiteral("waiting for writer\nno writer for feed '%1' yet").arg(feed_);
        case State::Connected:
            if (!hasFrame)
                return QStringLiteral("writer connected — waiting for the first frame");
            break;
        case State::WriterGone:
            return hasFrame ? QStringLiteral("writer gone — showing last frame")
                            : QStringLiteral("writer gone — waiting for it to come back");
        case State::EndOfStream:
            return hasFrame ? QStringLiteral("end of stream — showing last frame")
                            : QStringLiteral("end of stream");
        case State::Live:
            break;
    }
    if (!cannotShow_.isEmpty())
        return cannotShow_;
    if (!formatChange_.isEmpty() && Clock::now() < formatChangeUntil_)
        return formatChange_;
    return {};
}

QStringList FeedView::overlayLines() const {
    QStringList lines;
    lines << QStringLiteral("%1 — %2").arg(feed_, QLatin1String(toString(state_)));
    const FrameRef& frame = viewfinder_ ? viewfinder_->frame() : FrameRef();
    if (frame) {
        const Format& format = frame->format();
        QString rate = QStringLiteral("%1 fps").arg(measuredFps(), 0, 'f', 1);
        if (format.frameRate.num > 0)
            rate += QStringLiteral(" (writer says %1/%2)")
                        .arg(format.frameRate.num)
                        .arg(format.frameRate.den);
        lines << QStringLiteral("%1x%2 %3  %4")
                     .arg(format.width)
                     .arg(format.height)
                     .arg(qs(toString(format.pixelFormat)), rate);
        std::vector<std::uint64_t> recent(
            latencies_.end() - std::ptrdiff_t(std::min(latencies_.size(), kRecentLatencies)),
            latencies_.end());
        std::sort(recent.begin(), recent.end());
        lines << QStringLiteral("publish→paint %1 (p50 %2)")
                     .arg(millis(lastLatencyNs_), millis(percentile(recent, 0.5)));
    } else {
        lines << QStringLiteral("no frame yet");
    }
    if (reader_) {
        const ReaderStats stats = reader_->stats();
        lines << QStringLiteral("skipped %1  received %2  seq %3")
                     .arg(stats.skipped + stats.gaps)
                     .arg(stats.received)
                     .arg(lastSequence_);
    }
    QString path = viewfinder_ ? viewfinder_->paintPath() : QString();
    if (viewfinder_ && viewfinder_->lastConversionNs() > 0 && frame &&
        isYuv(frame->format().pixelFormat) && viewfinder_->kind() == PainterKind::QImage)
        path += QStringLiteral(" %1").arg(millis(viewfinder_->lastConversionNs()));
    lines << QStringLiteral("writer pid %1  %2")
                 .arg(writerPid_ ? QString::number(writerPid_) : QStringLiteral("-"), path);
    return lines;
}

void FeedView::updateDecoration() {
    if (!viewfinder_)
        return;
    ViewDecoration decoration;
    decoration.banner = bannerText();
    decoration.highlighted = highlighted_;
    if (options_.overlay)
        decoration.overlay = overlayLines();
    if (options_.inspector && hoverPixel_ && viewfinder_->frame()) {
        const Frame& frame = *viewfinder_->frame();
        if (auto probe =
                probePixel(frame.format(), planesOf(frame), hoverPixel_->x(), hoverPixel_->y()))
            decoration.inspector = probe->describe(frame.format().pixelFormat);
    }
    viewfinder_->setDecoration(decoration);
}

void FeedView::setOverlayVisible(bool visible) {
    options_.overlay = visible;
    if (visible)
        overlayTimer_.start();
    else
        overlayTimer_.stop();
    updateDecoration();
}

void FeedView::setInspectorEnabled(bool enabled) {
    options_.inspector = enabled;
    updateDecoration();
}

void FeedView::setPaused(bool paused) {
    if (paused == paused_)
        return;
    paused_ = paused;
    stepPending_ = false;
    if (paused) {
        still_ = QImage();
        if (auto image = frameImage())
            showStill(std::move(*image));
    } else {
        still_ = QImage();
    }
    updateDecoration();
    Q_EMIT stateChanged(this);
}

void FeedView::step() {
    if (paused_)
        stepPending_ = true;
}

void FeedView::showStill(QImage image) {
    still_ = image;
    // Only the QImage painter shows a still; the frame's lease goes with the old one.
    if (!viewfinder_ || viewfinder_->kind() != PainterKind::QImage)
        installViewfinder(createViewfinder(PainterKind::QImage, this));
    static_cast<ViewfinderQImage*>(viewfinder_.get())->showStill(std::move(image));
}

void FeedView::setHighlighted(bool highlighted) {
    highlighted_ = highlighted;
    updateDecoration();
}

void FeedView::fitToView() {
    viewfinder_->fitToView();
}

void FeedView::actualSize() {
    viewfinder_->actualSize();
}

void FeedView::zoomBy(double factor) {
    viewfinder_->zoomBy(factor);
}

std::optional<Format> FeedView::shownFormat() const {
    if (viewfinder_ && viewfinder_->frame())
        return viewfinder_->frame()->format();
    if (paused_ && lastFormat_)
        return lastFormat_;
    return std::nullopt;
}

namespace {

FeedView::LatencySummary summarize(std::vector<std::uint64_t> sorted) {
    FeedView::LatencySummary summary;
    std::sort(sorted.begin(), sorted.end());
    summary.count = sorted.size();
    summary.p50 = percentile(sorted, 0.50);
    summary.p90 = percentile(sorted, 0.90);
    summary.p99 = percentile(sorted, 0.99);
    summary.max = sorted.empty() ? 0 : sorted.back();
    return summary;
}

}  // namespace

FeedView::LatencySummary FeedView::latency() const {
    return summarize(latencies_);
}

FeedView::LatencySummary FeedView::conversionTime() const {
    return summarize(conversions_);
}

std::optional<ReaderStats> FeedView::readerStats() const {
    if (reader_)
        return reader_->stats();
    return std::nullopt;
}

Result<QImage> FeedView::frameImage() const {
    if (paused_ && !still_.isNull())
        return still_;
    if (!viewfinder_ || !viewfinder_->frame())
        return Error::make(Errc::InvalidArgument,
                           "feed '" + feed_.toStdString() + "' has shown no frame yet");
    const Frame& frame = *viewfinder_->frame();
    return frameToImage(frame.format(), planesOf(frame));
}

Result<void> FeedView::saveFrame(const QString& path) const {
    auto image = frameImage();
    if (!image)
        return image.error();
    return savePng(*image, path);
}

}  // namespace shmframe::viewer
