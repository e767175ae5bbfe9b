// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file viewer_options.h
 * \brief The viewer's command line, parsed and checked.
 */
#pragma once

#include <chrono>
#include <cstdint>

#include <QSize>
#include <QString>
#include <QStringList>

#include <shmframe/error.h>

#include "viewfinder.h"

namespace shmframe::viewer {

struct ViewerOptions {
    QStringList feeds;
    PainterKind painter = PainterKind::Auto;
    bool overlay = false;
    bool inspector = false;
    /// --actual-size: start at 1:1 instead of fitting the frame to the window.
    bool actualSize = false;
    bool fullscreen = false;
    /// --snapshot: write the view as shown to this PNG once every feed painted afterFrames.
    QString snapshotPath;
    /// --after-frames: with --snapshot, when to take it; alone, when to quit.
    std::uint64_t afterFrames = 0;
    /// --timeout: how long --snapshot / --after-frames wait for their frames.
    std::chrono::milliseconds timeout{20000};
    /// --stats-file: JSON statistics written at exit (for benchmarks).
    QString statsPath;
    /// --window-size: the window's initial size.
    QSize windowSize;

    bool showHelp = false;
    bool showVersion = false;
    QString helpText;
};

/**
 * \brief Parses \a arguments (argv[0] first). InvalidArgument names the option and
 * what is wrong with it.
 */
Result<ViewerOptions> parseViewerOptions(const QStringList& arguments);

}  // namespace shmframe::viewer
