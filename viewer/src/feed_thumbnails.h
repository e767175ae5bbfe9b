// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_thumbnails.h
 * \brief Small pictures of live feeds for the picker: the latest frame of each,
 * sampled down on the CPU, its lease released at once.
 */
#pragma once

#include <map>
#include <string>
#include <vector>

#include <QImage>
#include <QSize>

#include <shmframe/format.h>
#include <shmframe/reader.h>

#include "frame_planes.h"

namespace shmframe::viewer {

/**
 * \brief A picture of the frame no larger than \a box, aspect kept, sampled with
 * one read per output pixel (a 1080p frame costs what a 160x90 image costs).
 * \return a null image for a frame whose planes do not match its format.
 */
QImage sampleThumbnail(const Format& format, const FramePlanes& planes, QSize box);

class FeedThumbnails {
  public:
    explicit FeedThumbnails(QSize box) : box_(box) {}

    /**
     * \brief A thumbnail of \a feed's latest frame; null when there is no new frame
     * since the last call or the feed cannot be read. Keeps a latest-mode reader of
     * the feed open between calls and holds no frame after returning.
     */
    QImage grab(const std::string& feed);

    /// \brief Closes the readers of every feed not in \a keep.
    void retain(const std::vector<std::string>& keep);
    /// \brief Closes every reader.
    void clear() { readers_.clear(); }

  private:
    QSize box_;
    std::map<std::string, Reader> readers_;
};

}  // namespace shmframe::viewer
