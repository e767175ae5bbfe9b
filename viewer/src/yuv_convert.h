// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file yuv_convert.h
 * \brief The viewer's side of the library's colour conversion (shmframe/color_convert.h):
 * frames into QImages for displays without OpenGL, the pixel inspector and
 * snapshots, and the factors the OpenGL shader uses. The colours come from the
 * Format's colorimetry, never from the caps text.
 */
#pragma once

#include <cstdint>

#include <QImage>
#include <QRgb>

#include <shmframe/color_convert.h>
#include <shmframe/colorimetry.h>
#include <shmframe/error.h>
#include <shmframe/format.h>

#include "frame_planes.h"

namespace shmframe::viewer {

/// \brief The colorimetry a frame is shown with: the Format's, Unknown fields resolved.
Colorimetry colorimetryOf(const Format& format);

/// \brief One YUV pixel as an opaque QRgb, with the library's arithmetic.
QRgb yuvToQRgb(int y, int u, int v, const Colorimetry& colorimetry);

/// \brief RGB -> YUV (8 bits each), for test patterns and writers of known colours.
struct Yuv {
    std::uint8_t y, u, v;
};
Yuv rgbToYuv(QRgb rgb, const Colorimetry& colorimetry);

/// \brief The library's YUV -> RGB factors in 0..1 units, for the OpenGL shader.
struct YuvFloatCoefficients {
    float yOffset;  ///< in 0..1 units
    float yScale;
    float rFromV;
    float gFromU;
    float gFromV;
    float bFromU;
};
YuvFloatCoefficients yuvFloatCoefficients(const Colorimetry& colorimetry);

/**
 * \brief Converts an NV12, I420, YUY2 or UYVY frame into \a out, which becomes a
 * width x height Format_RGB32 image (reallocated only when its size changes).
 * \return Unsupported for other formats; BadPool when the planes do not hold the
 * rows the format says.
 */
Result<void> convertYuvToRgb32(const Format& format, const FramePlanes& planes, QImage& out);

}  // namespace shmframe::viewer
