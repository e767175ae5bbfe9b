// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file pixel_probe.h
 * \brief The pixel inspector's reading: a pixel's value in the feed's own format
 * and as RGB, read from the frame's planes.
 */
#pragma once

#include <optional>

#include <QRgb>
#include <QString>

#include <shmframe/format.h>

#include "frame_planes.h"

namespace shmframe::viewer {

struct PixelProbe {
    int x = 0;
    int y = 0;
    QString native;  ///< "R=255 G=0 B=0 A=255", "Y=81 U=90 V=240", "gray=4660 (0x1234)"
    QRgb rgb = 0;    ///< as the view paints it (alpha kept for RGBA/BGRA)

    /// "x 12 y 34  NV12 Y=81 U=90 V=240  RGB 255 0 0 #ff0000"
    QString describe(PixelFormat format) const;
};

/// \brief Reads pixel (\a x, \a y); nullopt outside the frame or for a bad layout.
std::optional<PixelProbe> probePixel(const Format& format, const FramePlanes& planes, int x, int y);

}  // namespace shmframe::viewer
