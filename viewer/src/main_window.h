// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file main_window.h
 * \brief The viewer's window: the feed picker, or a grid of feed views, with the
 * menus and shortcuts, and the script options (--snapshot, --after-frames).
 */
#pragma once

#include <cstdint>

#include <QList>
#include <QMainWindow>
#include <QTimer>

#include "feed_view.h"
#include "viewer_options.h"

class QAction;
class QGridLayout;
class QStackedWidget;

namespace shmframe::viewer {

class FeedPicker;

class MainWindow : public QMainWindow {
    Q_OBJECT

  public:
    explicit MainWindow(const ViewerOptions& options, QWidget* parent = nullptr);
    ~MainWindow() override;

    /// \brief Replaces the shown feeds with \a feeds, in a grid.
    void openFeeds(const QStringList& feeds);
    /// \brief Shows the list of live feeds.
    void showPicker();

    FeedPicker* picker() const { return picker_; }
    const QList<FeedView*>& views() const { return views_; }
    FeedView* currentView() const { return current_; }
    /// \brief The area the feeds are drawn in (what --snapshot writes).
    QWidget* viewArea() const { return grid_; }

    /// \brief Full screen (menu and status bar hidden) or back to a normal window.
    void setFullScreenMode(bool full);

    /// \brief Statistics of every feed as JSON (--stats-file).
    QByteArray statsJson() const;

  Q_SIGNALS:
    /// --snapshot or --after-frames is done (0) or failed (non-zero, message on stderr).
    void finished(int exitCode);

  protected:
    void keyPressEvent(QKeyEvent* event) override;

  private:
    void createActions();
    void setCurrentView(FeedView* view);
    void updateActions();
    void onFramePainted();
    void finishScript();
    void scriptTimedOut();
    void saveFrameAs();
    void saveViewAs();
    void toggleFullscreen();
    void showStatus(const QString& message);

    ViewerOptions options_;
    QStackedWidget* stack_ = nullptr;
    FeedPicker* picker_ = nullptr;
    QWidget* grid_ = nullptr;
    QGridLayout* gridLayout_ = nullptr;
    QList<FeedView*> views_;
    FeedView* current_ = nullptr;

    QAction* saveFrameAction_ = nullptr;
    QAction* saveViewAction_ = nullptr;
    QAction* fitAction_ = nullptr;
    QAction* actualSizeAction_ = nullptr;
    QAction* zoomInAction_ = nullptr;
    QAction* zoomOutAction_ = nullptr;
    QAction* overlayAction_ = nullptr;
    QAction* inspectorAction_ = nullptr;
    QAction* fullscreenAction_ = nullptr;

    QTimer scriptTimeout_;
    bool scriptDone_ = false;
    // CPU per frame, measured after a warm-up so start-up costs stay out.
    static constexpr std::uint64_t kWarmupFrames = 30;
    bool cpuMeasureStarted_ = false;
    std::uint64_t cpuStartNs_ = 0;
    std::uint64_t wallStartNs_ = 0;
    std::uint64_t paintedAtStart_ = 0;
    std::uint64_t receivedAtStart_ = 0;
};

/// \brief CPU time of this process (all threads), ns.
std::uint64_t processCpuNs();

}  // namespace shmframe::viewer
