// SPDX-License-Identifier: LGPL-2.1-or-later
// Saving an image the viewer made (a frame, the view, a headless snapshot) to a file.
#pragma once

#include <QImage>
#include <QString>

#include <shmframe/error.h>

namespace shmframe::viewer {

/// Writes \a image as a PNG to \a path through a temporary file in the same folder
/// that replaces \a path only once it is whole (QSaveFile): a full disk or a crash
/// never leaves a truncated image. Something at \a path that is not a regular file
/// (a directory, a device) is left alone. The error says which file and why.
Result<void> savePng(const QImage& image, const QString& path);

}  // namespace shmframe::viewer
