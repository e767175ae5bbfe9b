// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file main_window.h
 * \brief The viewer's window: the feed picker, or a grid of feed views, with the
 * menus and shortcuts, the status bar, the remembered settings, and the script
 * options (--snapshot, --after-frames).
 */
#pragma once

#include <cstdint>
#include <memory>

#include <QList>
#include <QMainWindow>
#include <QTimer>

#include "feed_view.h"
#include "viewer_options.h"

class QAction;
class QLabel;
class QSettings;
class QStackedWidget;

namespace shmframe::viewer {

class FeedGrid;
class FeedPicker;

/// \brief The viewer's settings: ~/.config/shmframe/shmframe-viewer.ini (XDG_CONFIG_HOME).
std::unique_ptr<QSettings> viewerSettings();

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
    QWidget* viewArea() const;
    FeedGrid* grid() const { return grid_; }

    /// \brief Pauses or resumes every view (Space). Paused views hold no lease.
    void setPaused(bool paused);
    bool paused() const { return paused_; }
    /// \brief While paused: every view shows its next frame (period key).
    void stepFrame();
    /// \brief Shows only \a view (nullptr: the whole grid again).
    void focusView(FeedView* view);

    /// \brief The permanent status bar text of the current view.
    QString statusText() const;
    /// \brief Every action of the menus (the shortcuts dialog lists them).
    const QList<QAction*>& allActions() const { return allActions_; }
    /// \brief Opens the About box / the keyboard shortcuts window.
    void showAbout();
    void showShortcuts();

    /// \brief Full screen (menu and status bar hidden) or back to a normal window.
    void setFullScreenMode(bool full);

    /// \brief Statistics of every feed as JSON (--stats-file).
    QByteArray statsJson() const;

  Q_SIGNALS:
    /// --snapshot or --after-frames is done (0) or failed (non-zero, message on stderr).
    void finished(int exitCode);

  protected:
    void keyPressEvent(QKeyEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

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
    void updateStatus();
    void toggleFocus(FeedView* view);
    void openLastFeeds();
    bool scripted() const;
    void saveSettings();

    ViewerOptions options_;
    QStackedWidget* stack_ = nullptr;
    FeedPicker* picker_ = nullptr;
    FeedGrid* grid_ = nullptr;
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
    QAction* pauseAction_ = nullptr;
    QAction* stepAction_ = nullptr;
    QAction* focusAction_ = nullptr;
    QAction* openLastAction_ = nullptr;
    QList<QAction*> focusNthActions_;
    QList<QAction*> allActions_;
    QLabel* statusLabel_ = nullptr;
    QTimer statusTimer_;
    bool paused_ = false;

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
