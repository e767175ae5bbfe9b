// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file frame_image.h
 * \brief Frames as QImages: zero-copy views for RGB and grey formats, converted
 * copies for snapshots.
 */
#pragma once

#include <memory>

#include <QImage>

#include <shmframe/error.h>
#include <shmframe/format.h>

#include "frame_planes.h"

namespace shmframe {
class Frame;
}

namespace shmframe::viewer {

/// A frame shared between the view that shows it and the QImages over its memory.
using FrameRef = std::shared_ptr<const Frame>;

/// \brief The QImage format that reads \a format's bytes as they lie; Format_Invalid
/// for YUV (and BGRA/BGRx on big-endian hosts).
QImage::Format qtFormatFor(PixelFormat format);

/**
 * \brief A QImage over the frame's plane 0 in shared memory, no copy. The image
 * (and every copy of it) holds \a frame, so the lease lasts as long as any image
 * still points at the slot. The image is read-only: Qt copies before any write.
 * \return Unsupported when qtFormatFor() has no format for it; BadPool when the
 * plane does not hold the rows the format says.
 */
Result<QImage> wrapFrame(const FrameRef& frame);

/**
 * \brief A deep copy of the frame as a QImage in the closest Qt format: the
 * frame's own bytes for RGB and grey formats (so a PNG of it is pixel-exact),
 * RGB32 for YUV.
 */
Result<QImage> frameToImage(const Format& format, const FramePlanes& planes);

}  // namespace shmframe::viewer
