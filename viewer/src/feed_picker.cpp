// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_picker.h"

#include <algorithm>

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSocketNotifier>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <shmframe/feed.h>

namespace shmframe::viewer {

namespace {

QString qs(std::string_view text) {
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

const QSize kThumbnailBox(128, 72);

}  // namespace

FeedPicker::FeedPicker(QWidget* parent) : QWidget(parent), thumbnails_(kThumbnailBox) {
    auto* layout = new QVBoxLayout(this);
    directoryLabel_ = new QLabel(this);
    directoryLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(directoryLabel_);

    list_ = new QTreeWidget(this);
    list_->setColumnCount(ColumnCount);
    list_->setHeaderLabels({tr("Feed"), tr("Size"), tr("Format"), tr("FPS"), tr("Writer pid"),
                            tr("Readers"), tr("Published")});
    list_->setRootIsDecorated(false);
    list_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    list_->setSortingEnabled(false);
    list_->setIconSize(kThumbnailBox);
    list_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(list_, 1);

    emptyLabel_ = new QLabel(this);
    emptyLabel_->setWordWrap(true);
    layout->addWidget(emptyLabel_);

    auto* buttons = new QHBoxLayout();
    buttons->addStretch(1);
    openButton_ = new QPushButton(tr("&Open"), this);
    openButton_->setDefault(true);
    buttons->addWidget(openButton_);
    layout->addLayout(buttons);

    connect(openButton_, &QPushButton::clicked, this, &FeedPicker::openSelected);
    connect(list_, &QTreeWidget::itemActivated, this,
            [this](QTreeWidgetItem* item, int) { openItem(item); });
    connect(list_, &QTreeWidget::itemSelectionChanged, this,
            [this] { openButton_->setEnabled(!list_->selectedItems().isEmpty()); });

    auto watch = FeedWatch::open();
    if (watch) {
        watch_.emplace(std::move(*watch));
        watchNotifier_ = std::make_unique<QSocketNotifier>(watch_->fd(), QSocketNotifier::Read);
        connect(watchNotifier_.get(), &QSocketNotifier::activated, this,
                &FeedPicker::watchReadable);
    } else {
        watchProblem_ = tr("cannot watch the feed directory: %1").arg(qs(watch.error().message));
    }
    thumbnailTimer_.setInterval(kThumbnailInterval);
    connect(&thumbnailTimer_, &QTimer::timeout, this, &FeedPicker::refreshThumbnails);

    refresh();
}

FeedPicker::~FeedPicker() {
    // The notifier goes before the watch that owns its fd.
    watchNotifier_.reset();
}

void FeedPicker::refresh() {
    watchReadable();
}

void FeedPicker::watchReadable() {
    if (watch_)
        watch_->update();
    rebuildList();
}

void FeedPicker::rebuildList() {
    const QString dir = watch_ ? qs(watch_->directory()) : qs(feedDirectory());
    directoryLabel_->setText(watchProblem_.isEmpty() ? tr("Live feeds in %1").arg(dir)
                                                     : watchProblem_);
    static const std::vector<FeedInfo> none;
    const std::vector<FeedInfo>& feeds = watch_ ? watch_->feeds() : none;
    const auto now = std::chrono::steady_clock::now();
    QStringList selected;
    for (QTreeWidgetItem* item : list_->selectedItems())
        selected << item->text(Name);
    if (selected.isEmpty())
        selected = preferred_;

    std::map<std::string, Seen> seen;
    std::vector<std::string> names;
    list_->setUpdatesEnabled(false);
    list_->clear();
    for (const FeedInfo& feed : feeds) {
        names.push_back(feed.name);
        Seen entry{feed.published, now, 0.0};
        if (auto old = seen_.find(feed.name); old != seen_.end()) {
            const double seconds = std::chrono::duration<double>(now - old->second.at).count();
            entry.fps = old->second.fps;
            if (seconds >= 0.5 && feed.published >= old->second.published)
                entry.fps = double(feed.published - old->second.published) / seconds;
            else if (seconds < 0.5)
                entry = old->second;  // too soon to measure: keep the last reading
        }
        seen[feed.name] = entry;

        auto* item = new QTreeWidgetItem(list_);
        const QString name = qs(feed.name);
        item->setText(Name, name);
        item->setText(Size, QStringLiteral("%1x%2").arg(feed.format.width).arg(feed.format.height));
        item->setText(Format, qs(toString(feed.format.pixelFormat)));
        QString fps = QString::number(entry.fps, 'f', 1);
        if (feed.format.frameRate.num > 0)
            fps += QStringLiteral(" / %1").arg(feed.format.frameRate.toDouble(), 0, 'g', 4);
        if (feed.endOfStream)
            fps += tr(" (ended)");
        item->setText(Fps, fps);
        item->setText(WriterPid, QString::number(feed.writerPid));
        item->setText(Readers, QString::number(feed.readers));
        item->setText(Published, QString::number(feed.published));
        item->setToolTip(Name, qs(feed.socketPath));
        if (auto thumb = thumbnailOf_.find(name); thumb != thumbnailOf_.end())
            item->setIcon(Name, QIcon(thumb->second));
        if (selected.contains(name))
            item->setSelected(true);
    }
    list_->setUpdatesEnabled(true);
    seen_ = std::move(seen);
    thumbnails_.retain(names);
    for (auto it = thumbnailOf_.begin(); it != thumbnailOf_.end();) {
        if (std::find(names.begin(), names.end(), it->first.toStdString()) == names.end())
            it = thumbnailOf_.erase(it);
        else
            ++it;
    }

    const bool empty = feeds.empty();
    emptyLabel_->setVisible(empty);
    if (empty)
        emptyLabel_->setText(
            tr("No live feed. Start a writer, for example\n"
               "  shmframe publish cam0\n"
               "or a GStreamer pipeline ending in shmframesink feed=cam0; "
               "it appears here."));
    openButton_->setEnabled(!list_->selectedItems().isEmpty());
}

void FeedPicker::refreshThumbnails() {
    for (int i = 0; i < list_->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = list_->topLevelItem(i);
        const QString name = item->text(Name);
        const QImage image = thumbnails_.grab(name.toStdString());
        if (image.isNull())
            continue;  // no new frame: the last thumbnail stays
        QPixmap pixmap = QPixmap::fromImage(image);
        item->setIcon(Name, QIcon(pixmap));
        thumbnailOf_[name] = std::move(pixmap);
    }
}

QPixmap FeedPicker::thumbnail(const QString& feed) const {
    const auto found = thumbnailOf_.find(feed);
    return found == thumbnailOf_.end() ? QPixmap() : found->second;
}

void FeedPicker::preferSelection(const QStringList& feeds) {
    preferred_ = feeds;
    if (list_->selectedItems().isEmpty())
        rebuildList();
}

void FeedPicker::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    refreshThumbnails();
    thumbnailTimer_.start();
}

void FeedPicker::hideEvent(QHideEvent* event) {
    QWidget::hideEvent(event);
    // Hidden, the picker reads nothing: no reader stays connected to the feeds.
    thumbnailTimer_.stop();
    thumbnails_.clear();
}

QStringList FeedPicker::listedFeeds() const {
    QStringList names;
    for (int i = 0; i < list_->topLevelItemCount(); ++i)
        names << list_->topLevelItem(i)->text(Name);
    return names;
}

void FeedPicker::openSelected() {
    QStringList names;
    for (QTreeWidgetItem* item : list_->selectedItems())
        names << item->text(Name);
    if (!names.isEmpty())
        Q_EMIT feedsChosen(names);
}

void FeedPicker::openItem(QTreeWidgetItem* item) {
    if (item)
        Q_EMIT feedsChosen({item->text(Name)});
}

}  // namespace shmframe::viewer
