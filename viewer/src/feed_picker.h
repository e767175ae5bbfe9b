// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_picker.h
 * \brief The list of live feeds shown when the viewer starts without a feed name.
 *
 * The feed directory is watched by the library's FeedWatch (one fd, a
 * QSocketNotifier), so feeds appear and vanish as writers come and go and the
 * numbers (fps, readers) refresh at its rescan interval. A thumbnail of each feed's
 * latest frame is refreshed a few times a second while the picker is shown.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <QPixmap>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include <shmframe/feed_watch.h>

#include "feed_thumbnails.h"

class QLabel;
class QPushButton;
class QSocketNotifier;
class QTreeWidget;
class QTreeWidgetItem;

namespace shmframe::viewer {

class FeedPicker : public QWidget {
    Q_OBJECT

  public:
    explicit FeedPicker(QWidget* parent = nullptr);
    ~FeedPicker() override;

    /// \brief Names of the feeds in the list, in list order.
    QStringList listedFeeds() const;
    /// \brief Lists the feeds again now.
    void refresh();
    /// \brief Selects these feeds whenever they are listed and nothing else is selected.
    void preferSelection(const QStringList& feeds);
    /// \brief The thumbnail shown for \a feed (null before its first frame).
    QPixmap thumbnail(const QString& feed) const;

    /// Column indexes of the list.
    enum Column { Name, Size, Format, Fps, WriterPid, Readers, Published, ColumnCount };

    /// How often thumbnails are refreshed while the picker is shown.
    static constexpr std::chrono::milliseconds kThumbnailInterval{250};

  Q_SIGNALS:
    /// The user asked to open these feeds (double click or the Open button).
    void feedsChosen(const QStringList& feeds);

  protected:
    void showEvent(QShowEvent* event) override;
    void hideEvent(QHideEvent* event) override;

  private:
    void watchReadable();
    void rebuildList();
    void refreshThumbnails();
    void openSelected();
    void openItem(QTreeWidgetItem* item);

    QTreeWidget* list_ = nullptr;
    QLabel* directoryLabel_ = nullptr;
    QLabel* emptyLabel_ = nullptr;
    QPushButton* openButton_ = nullptr;
    std::optional<FeedWatch> watch_;
    std::unique_ptr<QSocketNotifier> watchNotifier_;
    QString watchProblem_;
    FeedThumbnails thumbnails_;
    std::map<QString, QPixmap> thumbnailOf_;
    QTimer thumbnailTimer_;
    QStringList preferred_;

    struct Seen {
        std::uint64_t published = 0;
        std::chrono::steady_clock::time_point at;
        double fps = 0.0;
    };
    std::map<std::string, Seen> seen_;
};

}  // namespace shmframe::viewer
