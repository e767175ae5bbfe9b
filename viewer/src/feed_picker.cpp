// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_picker.h"

#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <shmframe/feed.h>

namespace shmframe::viewer {

namespace {

QString qs(std::string_view text) {
    return QString::fromUtf8(text.data(), qsizetype(text.size()));
}

}  // namespace

FeedPicker::FeedPicker(QWidget* parent) : QWidget(parent) {
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

    // Several files change for one writer (socket, lock): list once they settle.
    settleTimer_.setSingleShot(true);
    settleTimer_.setInterval(100);
    connect(&settleTimer_, &QTimer::timeout, this, &FeedPicker::refresh);
    connect(&watcher_, &QFileSystemWatcher::directoryChanged, this,
            [this] { settleTimer_.start(); });
    statsTimer_.setInterval(1000);
    connect(&statsTimer_, &QTimer::timeout, this, &FeedPicker::refresh);
    statsTimer_.start();

    refresh();
}

void FeedPicker::watchDirectory() {
    const QString dir = qs(feedDirectory());
    directoryLabel_->setText(tr("Live feeds in %1").arg(dir));
    if (watcher_.directories().contains(dir))
        return;
    if (!watcher_.directories().isEmpty())
        watcher_.removePaths(watcher_.directories());
    // A missing directory appears when the first writer starts; the slow timer
    // retries until then.
    if (QDir(dir).exists())
        watcher_.addPath(dir);
}

void FeedPicker::refresh() {
    watchDirectory();
    const auto now = std::chrono::steady_clock::now();
    const std::vector<FeedInfo> feeds = listFeeds();
    const QStringList selected = [this] {
        QStringList names;
        for (QTreeWidgetItem* item : list_->selectedItems())
            names << item->text(Name);
        return names;
    }();

    std::map<std::string, Seen> seen;
    list_->setUpdatesEnabled(false);
    list_->clear();
    for (const FeedInfo& feed : feeds) {
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
        item->setText(Name, qs(feed.name));
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
        if (selected.contains(item->text(Name)))
            item->setSelected(true);
    }
    list_->setUpdatesEnabled(true);
    seen_ = std::move(seen);

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
