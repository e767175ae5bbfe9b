// SPDX-License-Identifier: LGPL-2.1-or-later
#include "main_window.h"

#include <time.h>

#include <cmath>
#include <cstdio>

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QGridLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QKeyEvent>
#include <QMenuBar>
#include <QMessageBox>
#include <QStackedWidget>
#include <QStatusBar>

#include "feed_picker.h"

namespace shmframe::viewer {

namespace {

void printError(const QString& message) {
    std::fprintf(stderr, "shmframe-viewer: %s\n", message.toLocal8Bit().constData());
    std::fflush(stderr);
}

}  // namespace

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
    grid_ = new QWidget(stack_);
    gridLayout_ = new QGridLayout(grid_);
    gridLayout_->setContentsMargins(0, 0, 0, 0);
    gridLayout_->setSpacing(2);
    grid_->setAutoFillBackground(true);
    QPalette dark = grid_->palette();
    dark.setColor(QPalette::Window, Qt::black);
    grid_->setPalette(dark);
    stack_->addWidget(grid_);
    createActions();

    resize(options_.windowSize.isValid() ? options_.windowSize : QSize(960, 640));

    const bool scripted = !options_.snapshotPath.isEmpty() || options_.afterFrames > 0;
    if (scripted) {
        scriptTimeout_.setSingleShot(true);
        connect(&scriptTimeout_, &QTimer::timeout, this, &MainWindow::scriptTimedOut);
        scriptTimeout_.start(options_.timeout);
    }
    if (options_.feeds.isEmpty())
        showPicker();
    else
        openFeeds(options_.feeds);
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Feeds…"), this, &MainWindow::showPicker);
    open->setShortcut(QKeySequence::Open);
    saveFrameAction_ = file->addAction(tr("&Save Frame as PNG…"), this, &MainWindow::saveFrameAs);
    saveFrameAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_S));
    saveViewAction_ = file->addAction(tr("Save &View as PNG…"), this, &MainWindow::saveViewAs);
    saveViewAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
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
    // Shortcuts work in full screen too, where the menu bar is hidden.
    addActions({saveFrameAction_, saveViewAction_, fitAction_, actualSizeAction_, zoomInAction_,
                zoomOutAction_, overlayAction_, inspectorAction_, fullscreenAction_, open, quit});
    updateActions();
}

void MainWindow::updateActions() {
    const bool feedsShown = stack_->currentWidget() == grid_ && !views_.isEmpty();
    for (QAction* action : {saveFrameAction_, saveViewAction_, fitAction_, actualSizeAction_,
                            zoomInAction_, zoomOutAction_})
        action->setEnabled(feedsShown);
}

void MainWindow::showPicker() {
    if (!picker_) {
        picker_ = new FeedPicker(stack_);
        stack_->addWidget(picker_);
        connect(picker_, &FeedPicker::feedsChosen, this, &MainWindow::openFeeds);
    }
    picker_->refresh();
    stack_->setCurrentWidget(picker_);
    setWindowTitle(QStringLiteral("shmframe-viewer — live feeds"));
    updateActions();
}

void MainWindow::openFeeds(const QStringList& feeds) {
    for (FeedView* view : views_)
        delete view;
    views_.clear();
    current_ = nullptr;

    FeedView::Options viewOptions;
    viewOptions.painter = options_.painter;
    viewOptions.overlay = options_.overlay;
    viewOptions.inspector = options_.inspector;
    viewOptions.actualSize = options_.actualSize;
    // A square-ish grid: 2 feeds side by side, 3-4 in 2x2, 5-6 in 3x2 ...
    const int count = int(feeds.size());
    const int columns = std::max(1, int(std::ceil(std::sqrt(double(count)))));
    for (int i = 0; i < count; ++i) {
        auto* view = new FeedView(feeds[i], viewOptions, grid_);
        gridLayout_->addWidget(view, i / columns, i % columns);
        connect(view, &FeedView::framePainted, this, &MainWindow::onFramePainted);
        connect(view, &FeedView::activated, this, &MainWindow::setCurrentView);
        connect(view, &FeedView::doubleClicked, this, [this](FeedView*) { toggleFullscreen(); });
        views_ << view;
    }
    stack_->setCurrentWidget(grid_);
    setCurrentView(views_.isEmpty() ? nullptr : views_.front());
    setWindowTitle(QStringLiteral("shmframe-viewer — %1").arg(feeds.join(QStringLiteral(", "))));
    updateActions();
}

void MainWindow::setCurrentView(FeedView* view) {
    current_ = view;
    // Only a grid needs to show which view the keys act on.
    for (FeedView* v : views_)
        v->setHighlighted(views_.size() > 1 && v == view);
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
        wallStartNs_ = monotonicNowNs();
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
    if (!shot.save(options_.snapshotPath, "PNG")) {
        printError(QStringLiteral("--snapshot: cannot write %1 (check that its folder exists "
                                  "and is writable)")
                       .arg(options_.snapshotPath));
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
    if (!grid_->grab().save(path, "PNG")) {
        const QString message = tr("cannot write %1").arg(path);
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
        root[QStringLiteral("measured_wall_ns")] = qint64(monotonicNowNs() - wallStartNs_);
        root[QStringLiteral("frames_painted_measured")] = qint64(painted - paintedAtStart_);
        root[QStringLiteral("frames_received_measured")] = qint64(received - receivedAtStart_);
        root[QStringLiteral("cpu_ns_per_painted_frame")] =
            qint64(cpu / (painted - paintedAtStart_));
    }
    return QJsonDocument(root).toJson();
}

}  // namespace shmframe::viewer
