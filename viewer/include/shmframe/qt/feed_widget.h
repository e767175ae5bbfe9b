// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_widget.h
 * \brief A Qt widget that shows one live shmframe feed, as shmframe-viewer does.
 *
 * \code
 * #include <shmframe/qt/feed_widget.h>
 *
 * auto* view = new shmframe::qt::FeedWidget("cam0", parent);
 * layout->addWidget(view);
 * \endcode
 *
 * Link with the CMake target shmframe::qt (find_package(shmframe CONFIG
 * COMPONENTS qt)) or pkg-config shmframe-qt.
 *
 * The widget reads the feed in latest mode from the GUI thread's event loop (the
 * reader's fd on a QSocketNotifier; no thread), paints each frame from the writer's
 * shared memory (RGB and grey without a copy, YUV converted), keeps the aspect
 * ratio, waits for a writer that is not there yet and reconnects when it restarts.
 * Wheel zooms, drag pans. It holds at most one frame, and none while paused.
 */
#pragma once

#include <cstdint>

#include <QImage>
#include <QString>
#include <QWidget>

namespace shmframe::viewer {
class FeedView;
}

namespace shmframe::qt {

class FeedWidget : public QWidget {
    Q_OBJECT

  public:
    /// \brief Shows \a feed (a feed name or a writer's socket path).
    explicit FeedWidget(const QString& feed, QWidget* parent = nullptr);
    ~FeedWidget() override;

    /// \brief The feed shown.
    QString feedName() const;
    /// \brief Frames painted so far.
    std::uint64_t framesPainted() const;
    /// \brief "waiting for writer", "live", "writer gone", ... (what the view says).
    QString stateText() const;

    /// \brief Pauses or resumes. Paused, the widget shows a copy of the last frame
    /// and holds no slot of the writer.
    void setPaused(bool paused);
    bool paused() const;

    /// \brief Shows the frame rate, latency and format over the picture.
    void setOverlayVisible(bool visible);

    /// \brief The frame shown now at full size (RGB formats pixel-exact, YUV as
    /// RGB32); a null image before the first frame.
    QImage frameImage() const;

  Q_SIGNALS:
    /// A frame was painted for the first time.
    void framePainted();

  private:
    viewer::FeedView* view_ = nullptr;
};

}  // namespace shmframe::qt
