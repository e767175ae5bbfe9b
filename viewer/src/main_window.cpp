// SPDX-License-Identifier: LGPL-2.1-or-later
#include "main_window.h"

#include <time.h>

#include <cstdio>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDialog>
#include <QDir>
#include <QFileDialog>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeyEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>

#include <shmframe/clock.h>

#include "feed_grid.h"
#include "feed_picker.h"
#include "help_dialogs.h"
#include "image_file.h"

namespace shmframe::viewer {

namespace {

void printError(const QString& message) {
    std::fprintf(stderr, "shmframe-viewer: %s\n", message.toLocal8Bit().constData());
    std::fflush(stderr);
}

const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kLastFeedsKey = QStringLiteral("feeds/last");

}  // namespace

std::unique_ptr<QSettings> viewerSettings() {
    return std::make_unique<QSettings>(QSettings::IniFormat, QSettings::UserScope,
                                       QStringLiteral("shmframe"),
                                       QStringLiteral("shmframe-viewer"));
}

std::uint64_t processCpuNs() {
    timespec cpu{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    return std::uint64_t(cpu.tv_sec) * 1'000'000'000u + std::uint64_t(cpu.tv_nsec);
}

MainWindow::MainWindow(const ViewerOptions& options, QWidget* parent)
    : QMainWindow(parent), options_(options) {
    setWindowTitle(QStringLiteral("shmframe-viewer"));
    stack_ = new QStackedWidget(this);
    setCentralWidget(stack_);
    grid_ = new FeedGrid(stack_);
    stack_->addWidget(grid_);
    createActions();

    statusLabel_ = new QLabel(this);
    statusBar()->addPermanentWidget(statusLabel_, 1);
    statusTimer_.setInterval(500);
    connect(&statusTimer_, &QTimer::timeout, this, &MainWindow::updateStatus);
    statusTimer_.start();

    resize(options_.windowSize.isValid() ? options_.windowSize : QSize(960, 640));
    // A script gets the same window every time; a user gets the one they left.
    if (!scripted() && !options_.windowSize.isValid())
        restoreGeometry(viewerSettings()->value(kGeometryKey).toByteArray());

    if (scripted()) {
        scriptTimeout_.setSingleShot(true);
        connect(&scriptTimeout_, &QTimer::timeout, this, &MainWindow::scriptTimedOut);
        scriptTimeout_.start(options_.timeout);
    }
    if (options_.feeds.isEmpty())
        showPicker();
    else
        openFeeds(options_.feeds);
}

MainWindow::~MainWindow() {
    // Also when the viewer quits on SIGTERM or Ctrl+Q, without a close event.
    saveSettings();
}

bool MainWindow::scripted() const {
    return !options_.snapshotPath.isEmpty() || options_.afterFrames > 0;
}

QWidget* MainWindow::viewArea() const {
    return grid_;
}

void MainWindow::saveSettings() {
    if (scripted())
        return;
    viewerSettings()->setValue(kGeometryKey, saveGeometry());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Feeds…"), this, &MainWindow::showPicker);
    open->setShortcut(QKeySequence::Open);
    openLastAction_ = file->addAction(tr("Open &Last Feeds"), this, &MainWindow::openLastFeeds);
    openLastAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    saveFrameAction_ = file->addAction(tr("&Save Frame as PNG…"), this, &MainWindow::saveFrameAs);
    saveFrameAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
    saveViewAction_ = file->addAction(tr("Save &View as PNG…"), this, &MainWindow::saveViewAs);
    saveViewAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, [this] {
        saveSettings();
        QApplication::quit();
    });
    quit->setShortcut(QKeySequence::Quit);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    fitAction_ = view->addAction(tr("&Fit to Window"), this, [this] {
        if (current_)
            current_->fitToView();
    });
    fitAction_->setShortcuts({QKeySequence(Qt::Key_F), QKeySequence(Qt::CTRL | Qt::Key_0)});
    actualSizeAction_ = view->addAction(tr("&Actual Size (1:1)"), this, [this] {
        if (current_)
            current_->actualSize();
    });
    actualSizeAction_->setShortcuts({QKeySequence(Qt::Key_1), QKeySequence(Qt::CTRL | Qt::Key_1)});
    zoomInAction_ = view->addAction(tr("Zoom &In"), this, [this] {
        if (current_)
            current_->zoomBy(1.25);
    });
    zoomInAction_->setShortcuts({QKeySequence::ZoomIn, QKeySequence(Qt::Key_Plus)});
    zoomOutAction_ = view->addAction(tr("Zoom &Out"), this, [this] {
        if (current_)
            current_->zoomBy(0.8);
    });
    zoomOutAction_->setShortcuts({QKeySequence::ZoomOut, QKeySequence(Qt::Key_Minus)});
    view->addSeparator();
    overlayAction_ = view->addAction(tr("&Overlay"));
    overlayAction_->setCheckable(true);
    overlayAction_->setChecked(options_.overlay);
    overlayAction_->setShortcut(QKeySequence(Qt::Key_O));
    connect(overlayAction_, &QAction::toggled, this, [this](bool on) {
        options_.overlay = on;
        for (FeedView* v : views_)
            v->setOverlayVisible(on);
    });
    inspectorAction_ = view->addAction(tr("Pixel &Inspector"));
    inspectorAction_->setCheckable(true);
    inspectorAction_->setChecked(options_.inspector);
    inspectorAction_->setShortcut(QKeySequence(Qt::Key_I));
    connect(inspectorAction_, &QAction::toggled, this, [this](bool on) {
        options_.inspector = on;
        for (FeedView* v : views_)
            v->setInspectorEnabled(on);
    });
    view->addSeparator();
    fullscreenAction_ = view->addAction(tr("F&ull Screen"), this, &MainWindow::toggleFullscreen);
    fullscreenAction_->setShortcuts({QKeySequence::FullScreen, QKeySequence(Qt::Key_F11)});
    view->addSeparator();
    focusAction_ = view->addAction(tr("Focus Selected Feed / Back to &Grid"), this,
                                   [this] { toggleFocus(current_); });
    focusAction_->setShortcuts({QKeySequence(Qt::Key_Return), QKeySequence(Qt::Key_Enter)});
    QMenu* focusMenu = view->addMenu(tr("Focus F&eed"));
    for (int n = 1; n <= 9; ++n) {
        QAction* focusNth = focusMenu->addAction(tr("Feed %1").arg(n), this, [this, n] {
            if (n <= views_.size())
                toggleFocus(views_[n - 1]);
        });
        focusNth->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_0 + n)));
        focusNthActions_ << focusNth;
    }

    QMenu* playback = menuBar()->addMenu(tr("&Playback"));
    pauseAction_ = playback->addAction(tr("&Pause"));
    pauseAction_->setCheckable(true);
    pauseAction_->setShortcut(QKeySequence(Qt::Key_Space));
    connect(pauseAction_, &QAction::toggled, this, &MainWindow::setPaused);
    stepAction_ = playback->addAction(tr("&Step One Frame"), this, &MainWindow::stepFrame);
    stepAction_->setShortcut(QKeySequence(Qt::Key_Period));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* shortcuts =
        help->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    shortcuts->setShortcuts({QKeySequence::HelpContents, QKeySequence(Qt::CTRL | Qt::Key_Slash)});
    help->addAction(tr("&About shmframe-viewer"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);

    allActions_ = {open,           openLastAction_, saveFrameAction_,  saveViewAction_,
                   quit,           fitAction_,      actualSizeAction_, zoomInAction_,
                   zoomOutAction_, overlayAction_,  inspectorAction_,  fullscreenAction_,
                   focusAction_};
    allActions_ << QList<QAction*>{pauseAction_, stepAction_, shortcuts};
    // Shortcuts work in full screen too, where the menu bar is hidden.
    addActions(allActions_);
    addActions(focusNthActions_);
    updateActions();
}

void MainWindow::updateActions() {
    const bool feedsShown = stack_->currentWidget() == grid_ && !views_.isEmpty();
    // Disabled actions leave their keys (Return, Space) to the picker's list.
    for (QAction* action : {saveFrameAction_, saveViewAction_, fitAction_, actualSizeAction_,
                            zoomInAction_, zoomOutAction_, pauseAction_, focusAction_})
        action->setEnabled(feedsShown);
    stepAction_->setEnabled(feedsShown && paused_);
    for (int i = 0; i < focusNthActions_.size(); ++i)
        focusNthActions_[i]->setEnabled(feedsShown && views_.size() > 1 && i < views_.size());
    openLastAction_->setEnabled(!viewerSettings()->value(kLastFeedsKey).toStringList().isEmpty());
}

void MainWindow::openLastFeeds() {
    const QStringList feeds = viewerSettings()->value(kLastFeedsKey).toStringList();
    if (!feeds.isEmpty())
        openFeeds(feeds);
}

void MainWindow::setPaused(bool paused) {
    paused_ = paused;
    if (pauseAction_->isChecked() != paused)
        pauseAction_->setChecked(paused);
    for (FeedView* view : views_)
        view->setPaused(paused);
    updateActions();
    updateStatus();
}

void MainWindow::stepFrame() {
    for (FeedView* view : views_)
        view->step();
}

void MainWindow::focusView(FeedView* view) {
    grid_->focusView(view);
    if (view)
        setCurrentView(view);
}

void MainWindow::toggleFocus(FeedView* view) {
    if (views_.size() < 2)
        return;
    focusView(grid_->focusedView() ? nullptr : view);
}

void MainWindow::showAbout() {
    QMessageBox::about(this, tr("About shmframe-viewer"), aboutText());
}

void MainWindow::showShortcuts() {
    QDialog* dialog = createShortcutsDialog(allActions_, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->show();
}

QString MainWindow::statusText() const {
    if (stack_->currentWidget() != grid_ || !current_) {
        if (picker_ && stack_->currentWidget() == picker_)
            return tr("%n live feed(s)", nullptr, int(picker_->listedFeeds().size()));
        return {};
    }
    const FeedView& view = *current_;
    QStringList parts{view.feedName()};
    if (const auto format = view.shownFormat()) {
        const std::string_view pixelFormat = toString(format->pixelFormat);
        parts << QStringLiteral("%1x%2").arg(format->width).arg(format->height)
              << QString::fromUtf8(pixelFormat.data(), qsizetype(pixelFormat.size()));
    } else {
        parts << QLatin1String(toString(view.state()));
    }
    parts << tr("%1 fps").arg(view.measuredFps(), 0, 'f', 1);
    parts << tr("latency %1 ms").arg(double(view.lastLatencyNs()) / 1e6, 0, 'f', 1);
    if (const auto stats = view.readerStats())
        parts << tr("dropped %1").arg(stats->skipped + stats->gaps);
    if (paused_)
        parts << tr("paused");
    return parts.join(QStringLiteral("  │  "));
}

void MainWindow::updateStatus() {
    const QString text = statusText();
    if (statusLabel_->text() != text)
        statusLabel_->setText(text);
}

void MainWindow::showPicker() {
    if (!picker_) {
        picker_ = new FeedPicker(stack_);
        stack_->addWidget(picker_);
        connect(picker_, &FeedPicker::feedsChosen, this, &MainWindow::openFeeds);
        picker_->preferSelection(viewerSettings()->value(kLastFeedsKey).toStringList());
    }
    picker_->refresh();
    stack_->setCurrentWidget(picker_);
    setWindowTitle(QStringLiteral("shmframe-viewer — live feeds"));
    updateActions();
    updateStatus();
}

void MainWindow::openFeeds(const QStringList& feeds) {
    grid_->setViews({});
    views_.clear();
    current_ = nullptr;

    FeedView::Options viewOptions;
    viewOptions.painter = options_.painter;
    viewOptions.overlay = options_.overlay;
    viewOptions.inspector = options_.inspector;
    viewOptions.actualSize = options_.actualSize;
    for (const QString& feed : feeds) {
        auto* view = new FeedView(feed, viewOptions, grid_);
        connect(view, &FeedView::framePainted, this, &MainWindow::onFramePainted);
        connect(view, &FeedView::activated, this, &MainWindow::setCurrentView);
        // One feed: full screen; in a grid: that feed alone, and back.
        connect(view, &FeedView::doubleClicked, this, [this](FeedView* clicked) {
            if (views_.size() > 1)
                toggleFocus(clicked);
            else
                toggleFullscreen();
        });
        if (paused_)
            view->setPaused(true);
        views_ << view;
    }
    grid_->setViews(views_);
    stack_->setCurrentWidget(grid_);
    if (!scripted() && !feeds.isEmpty())
        viewerSettings()->setValue(kLastFeedsKey, feeds);
    setCurrentView(views_.isEmpty() ? nullptr : views_.front());
    setWindowTitle(QStringLiteral("shmframe-viewer — %1").arg(feeds.join(QStringLiteral(", "))));
    updateActions();
    updateStatus();
}

void MainWindow::setCurrentView(FeedView* view) {
    current_ = view;
    // Only a grid needs to show which view the keys act on.
    for (FeedView* v : views_)
        v->setHighlighted(views_.size() > 1 && v == view);
    updateStatus();
}

void MainWindow::onFramePainted() {
    std::uint64_t minPainted = ~std::uint64_t{0};
    std::uint64_t painted = 0;
    std::uint64_t received = 0;
    for (FeedView* view : views_) {
        minPainted = std::min(minPainted, view->framesPainted());
        painted += view->framesPainted();
        received += view->framesReceived();
    }
    if (!cpuMeasureStarted_ && minPainted >= kWarmupFrames) {
        cpuMeasureStarted_ = true;
        cpuStartNs_ = processCpuNs();
        wallStartNs_ = monotonicNs();
        paintedAtStart_ = painted;
        receivedAtStart_ = received;
    }
    if (options_.afterFrames > 0 && !scriptDone_ && minPainted >= options_.afterFrames) {
        scriptDone_ = true;
        // After the paint that counted the frame has finished.
        QTimer::singleShot(0, this, &MainWindow::finishScript);
    }
}

void MainWindow::finishScript() {
    scriptTimeout_.stop();
    if (options_.snapshotPath.isEmpty()) {
        Q_EMIT finished(0);
        return;
    }
    const QImage shot = grid_->grab().toImage();
    if (shot.isNull()) {
        printError(QStringLiteral("--snapshot: the window could not be captured"));
        Q_EMIT finished(2);
        return;
    }
    if (auto saved = savePng(shot, options_.snapshotPath); !saved) {
        printError(QStringLiteral("--snapshot: ") + QString::fromStdString(saved.error().message));
        Q_EMIT finished(2);
        return;
    }
    Q_EMIT finished(0);
}

void MainWindow::scriptTimedOut() {
    if (scriptDone_)
        return;
    scriptDone_ = true;
    QStringList states;
    for (FeedView* view : views_) {
        QString line = QStringLiteral("feed '%1': %2 of %3 frames painted, %4")
                           .arg(view->feedName())
                           .arg(view->framesPainted())
                           .arg(options_.afterFrames)
                           .arg(QLatin1String(toString(view->state())));
        if (!view->problem().isEmpty())
            line += QStringLiteral(" (%1)").arg(view->problem());
        states << line;
    }
    printError(QStringLiteral("%1: gave up after %2 s waiting for frames; %3")
                   .arg(options_.snapshotPath.isEmpty() ? QStringLiteral("--after-frames")
                                                        : QStringLiteral("--snapshot"))
                   .arg(double(options_.timeout.count()) / 1000.0)
                   .arg(states.join(QStringLiteral("; "))));
    Q_EMIT finished(3);
}

void MainWindow::saveFrameAs() {
    if (!current_)
        return;
    auto image = current_->frameImage();
    if (!image) {
        showStatus(QString::fromStdString(image.error().message));
        return;
    }
    const QString suggested =
        QDir::current().filePath(QStringLiteral("%1.png").arg(current_->feedName()));
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save Frame"), suggested, tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    if (auto saved = current_->saveFrame(path); !saved) {
        printError(QString::fromStdString(saved.error().message));
        QMessageBox::warning(this, tr("Save Frame"), QString::fromStdString(saved.error().message));
        return;
    }
    showStatus(tr("Saved the frame of %1 to %2").arg(current_->feedName(), path));
}

void MainWindow::saveViewAs() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save View"), QDir::current().filePath(QStringLiteral("view.png")),
        tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    if (auto saved = savePng(grid_->grab().toImage(), path); !saved) {
        const QString message = QString::fromStdString(saved.error().message);
        printError(message);
        QMessageBox::warning(this, tr("Save View"), message);
        return;
    }
    showStatus(tr("Saved the view to %1").arg(path));
}

void MainWindow::toggleFullscreen() {
    setFullScreenMode(!isFullScreen());
}

void MainWindow::setFullScreenMode(bool full) {
    menuBar()->setVisible(!full);
    statusBar()->setVisible(!full);
    if (full)
        showFullScreen();
    else
        showNormal();
}

void MainWindow::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape && isFullScreen()) {
        setFullScreenMode(false);
        return;
    }
    if (event->key() == Qt::Key_Escape && grid_->focusedView()) {
        focusView(nullptr);
        return;
    }
    QMainWindow::keyPressEvent(event);
}

void MainWindow::showStatus(const QString& message) {
    statusBar()->showMessage(message, 5000);
}

QByteArray MainWindow::statsJson() const {
    QJsonArray feeds;
    std::uint64_t painted = 0;
    std::uint64_t received = 0;
    for (FeedView* view : views_) {
        const auto latency = view->latency();
        QJsonObject feed;
        feed[QStringLiteral("feed")] = view->feedName();
        feed[QStringLiteral("state")] = QLatin1String(toString(view->state()));
        feed[QStringLiteral("painter")] = view->viewfinder()
                                              ? QLatin1String(toString(view->viewfinder()->kind()))
                                              : QLatin1String("none");
        feed[QStringLiteral("paint_path")] =
            view->viewfinder() ? view->viewfinder()->paintPath() : QString();
        feed[QStringLiteral("frames_received")] = qint64(view->framesReceived());
        feed[QStringLiteral("frames_painted")] = qint64(view->framesPainted());
        if (auto stats = view->readerStats()) {
            feed[QStringLiteral("skipped")] = qint64(stats->skipped + stats->gaps);
            feed[QStringLiteral("copies")] = qint64(stats->copies);
        }
        QJsonObject lat;
        lat[QStringLiteral("count")] = qint64(latency.count);
        lat[QStringLiteral("p50")] = qint64(latency.p50);
        lat[QStringLiteral("p90")] = qint64(latency.p90);
        lat[QStringLiteral("p99")] = qint64(latency.p99);
        lat[QStringLiteral("max")] = qint64(latency.max);
        feed[QStringLiteral("publish_to_paint_ns")] = lat;
        if (const auto conversion = view->conversionTime(); conversion.count > 0) {
            QJsonObject yuv;
            yuv[QStringLiteral("count")] = qint64(conversion.count);
            yuv[QStringLiteral("p50")] = qint64(conversion.p50);
            yuv[QStringLiteral("p90")] = qint64(conversion.p90);
            yuv[QStringLiteral("max")] = qint64(conversion.max);
            feed[QStringLiteral("cpu_yuv_conversion_ns")] = yuv;
        }
        feeds.append(feed);
        painted += view->framesPainted();
        received += view->framesReceived();
    }
    QJsonObject root;
    root[QStringLiteral("feeds")] = feeds;
    if (cpuMeasureStarted_ && painted > paintedAtStart_) {
        const std::uint64_t cpu = processCpuNs() - cpuStartNs_;
        root[QStringLiteral("cpu_ns")] = qint64(cpu);
        root[QStringLiteral("measured_wall_ns")] = qint64(monotonicNs() - wallStartNs_);
        root[QStringLiteral("frames_painted_measured")] = qint64(painted - paintedAtStart_);
        root[QStringLiteral("frames_received_measured")] = qint64(received - receivedAtStart_);
        root[QStringLiteral("cpu_ns_per_painted_frame")] =
            qint64(cpu / (painted - paintedAtStart_));
    }
    return QJsonDocument(root).toJson();
}

}  // namespace shmframe::viewer
