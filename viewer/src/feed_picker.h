// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_picker.h
 * \brief The list of live feeds shown when the viewer starts without a feed name.
 *
 * The feed directory is watched (QFileSystemWatcher), so feeds appear and vanish
 * as writers come and go; a slow timer refreshes the numbers (fps, readers).
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <QFileSystemWatcher>
#include <QStringList>
#include <QTimer>
#include <QWidget>

class QLabel;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace shmframe::viewer {

class FeedPicker : public QWidget {
    Q_OBJECT

  public:
    explicit FeedPicker(QWidget* parent = nullptr);

    /// \brief Names of the feeds in the list, in list order.
    QStringList listedFeeds() const;
    /// \brief Lists the feeds again now.
    void refresh();

    /// Column indexes of the list.
    enum Column { Name, Size, Format, Fps, WriterPid, Readers, Published, ColumnCount };

  Q_SIGNALS:
    /// The user asked to open these feeds (double click or the Open button).
    void feedsChosen(const QStringList& feeds);

  private:
    void watchDirectory();
    void openSelected();
    void openItem(QTreeWidgetItem* item);

    QTreeWidget* list_ = nullptr;
    QLabel* directoryLabel_ = nullptr;
    QLabel* emptyLabel_ = nullptr;
    QPushButton* openButton_ = nullptr;
    QFileSystemWatcher watcher_;
    QTimer statsTimer_;
    QTimer settleTimer_;

    struct Seen {
        std::uint64_t published = 0;
        std::chrono::steady_clock::time_point at;
        double fps = 0.0;
    };
    std::map<std::string, Seen> seen_;
};

}  // namespace shmframe::viewer
