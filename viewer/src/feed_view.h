// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_view.h
 * \brief One feed on screen: its reader, the notifier on the reader's fd, the
 * feed's state as a user sees it, and the viewfinder that paints it.
 *
 * Frames reach the GUI thread only through the event loop: the reader's fd wakes
 * a QSocketNotifier, which drains the reader with next(0) until it would block.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include <QImage>
#include <QString>
#include <QTimer>
#include <QWidget>

#include <shmframe/format.h>
#include <shmframe/reader.h>

#include "viewfinder.h"

class QSocketNotifier;
class QVBoxLayout;

namespace shmframe::viewer {

class FeedView : public QWidget {
    Q_OBJECT

  public:
    enum class State {
        Opening,           ///< before the first open attempt
        WaitingForWriter,  ///< no writer yet: "waiting for writer"
        Connected,         ///< a writer serves us, no frame yet
        Live,              ///< frames arrive
        WriterGone,        ///< "writer gone — showing last frame"; reconnects by itself
        EndOfStream,       ///< the writer said EOS; the last frame stays
        Failed,            ///< cannot read the feed (message says why); retried unless hopeless
    };

    struct Options {
        PainterKind painter = PainterKind::Auto;
        bool overlay = false;
        bool inspector = false;
        /// Show the first frame (and each new frame size) at 1:1 instead of fit.
        bool actualSize = false;
        /// Delay before a failed feed is opened again.
        std::chrono::milliseconds retryDelay{1000};
    };

    /// \brief Publish -> first paint latencies seen so far (ns), and percentiles.
    struct LatencySummary {
        std::size_t count = 0;
        std::uint64_t p50 = 0;
        std::uint64_t p90 = 0;
        std::uint64_t p99 = 0;
        std::uint64_t max = 0;
    };

    FeedView(const QString& feed, Options options, QWidget* parent = nullptr);
    ~FeedView() override;

    const QString& feedName() const { return feed_; }
    State state() const { return state_; }
    /// \brief The message drawn over the picture now (empty when none).
    QString bannerText() const;
    /// \brief Why the feed cannot be shown, when it cannot (also printed on stderr).
    const QString& problem() const { return problem_; }

    Viewfinder* viewfinder() const { return viewfinder_.get(); }
    std::uint64_t framesReceived() const { return framesReceived_; }
    std::uint64_t framesPainted() const { return framesPainted_; }
    std::optional<Format> shownFormat() const;
    LatencySummary latency() const;
    /// \brief Time the CPU YUV conversion took per painted frame (empty when none ran).
    LatencySummary conversionTime() const;
    std::optional<ReaderStats> readerStats() const;

    void setOverlayVisible(bool visible);
    bool overlayVisible() const { return options_.overlay; }
    void setInspectorEnabled(bool enabled);
    void setHighlighted(bool highlighted);

    /**
     * \brief Pauses (or resumes) the picture. A paused view shows a copy of its last
     * frame and holds no lease: it keeps reading so that the writer is never pinned,
     * and drops every frame but the one step() asks for.
     */
    void setPaused(bool paused);
    bool paused() const { return paused_; }
    /// \brief While paused: shows the next frame that arrives, then stays paused.
    void step();

    /// \brief Frames per second received over the last second.
    double measuredFps() const;
    /// \brief Publish -> paint latency of the last painted frame (ns), 0 before one.
    std::uint64_t lastLatencyNs() const { return lastLatencyNs_; }

    void fitToView();
    void actualSize();
    void zoomBy(double factor);

    /// \brief The frame shown now as an image: its own pixels for RGB and grey
    /// formats (pixel-exact), RGB32 for YUV.
    Result<QImage> frameImage() const;
    /// \brief Writes frameImage() as PNG. The message names the file and the reason.
    Result<void> saveFrame(const QString& path) const;

  Q_SIGNALS:
    void framePainted();
    void stateChanged(FeedView* view);
    void activated(FeedView* view);
    void doubleClicked(FeedView* view);

  private:
    void open();
    void closeReader();
    void readerReadable();
    void drain();
    void handleFrame(Frame frame);
    /// \return false when the reader is closed (stop draining).
    bool handleReadError(const Error& error);
    void setState(State state);
    void setProblem(const QString& problem);
    void scheduleRetry();
    void ensureViewfinderFor(PixelFormat format);
    void installViewfinder(std::unique_ptr<Viewfinder> viewfinder);
    void onFramePainted(const FrameMeta& meta, std::uint64_t paintTimeNs);
    void onHover(std::optional<QPoint> pixel);
    void updateDecoration();
    QStringList overlayLines() const;
    /// Shows \a image in place of the frame (paused views hold no lease).
    void showStill(QImage image);
    /// Prints to stderr once per distinct message.
    void report(const QString& message);

    QString feed_;
    Options options_;
    std::optional<Reader> reader_;
    std::unique_ptr<QSocketNotifier> notifier_;
    std::unique_ptr<Viewfinder> viewfinder_;
    QVBoxLayout* layout_ = nullptr;
    QTimer retryTimer_;
    QTimer overlayTimer_;
    QTimer wakeupBackoff_;

    State state_ = State::Opening;
    QString problem_;
    QString cannotShow_;
    QString formatChange_;
    std::chrono::steady_clock::time_point formatChangeUntil_;
    std::optional<Format> lastFormat_;
    std::optional<QPoint> hoverPixel_;
    bool highlighted_ = false;
    bool paused_ = false;
    bool stepPending_ = false;
    QImage still_;
    bool retryable_ = true;
    int emptyWakeups_ = 0;
    QString lastReport_;

    std::uint64_t framesReceived_ = 0;
    std::uint64_t framesPainted_ = 0;
    std::uint64_t lastSequence_ = 0;
    pid_t writerPid_ = 0;
    std::deque<std::chrono::steady_clock::time_point> frameTimes_;
    std::vector<std::uint64_t> latencies_;
    std::vector<std::uint64_t> conversions_;
    QSize actualSizeAppliedFor_;
    std::uint64_t lastLatencyNs_ = 0;
};

const char* toString(FeedView::State state);

}  // namespace shmframe::viewer
