// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file yuv_convert.h
 * \brief YUV to RGB on the CPU: the path for displays without OpenGL, the pixel
 * inspector and snapshots. The OpenGL path uses the same coefficients.
 */
#pragma once

#include <algorithm>
#include <cstdint>

#include <QImage>
#include <QRgb>

#include <shmframe/error.h>
#include <shmframe/format.h>

#include "frame_planes.h"

namespace shmframe::viewer {

enum class YuvMatrix { Bt601, Bt709, Bt2020, Smpte240m, Fcc };
enum class YuvRange { Limited, Full };

struct YuvColorSpace {
    YuvMatrix matrix = YuvMatrix::Bt601;
    YuvRange range = YuvRange::Limited;
    bool operator==(const YuvColorSpace&) const = default;
};

/**
 * \brief The colour space of a YUV frame: the caps' colorimetry when the writer
 * gave one, else GStreamer's default for the frame height (BT.601 up to 576 lines,
 * BT.709 above, BT.2020 from 2160).
 */
YuvColorSpace colorSpaceFor(const Format& format);

/// \brief "bt601 limited" — for the overlay.
const char* describe(YuvColorSpace space);

/// \brief Fixed-point (16.16) YUV -> RGB factors of one colour space.
struct YuvCoefficients {
    std::int32_t yOffset = 16;
    std::int32_t yScale = 0;
    std::int32_t rFromV = 0;
    std::int32_t gFromU = 0;
    std::int32_t gFromV = 0;
    std::int32_t bFromU = 0;
};

YuvCoefficients yuvCoefficients(YuvColorSpace space);

/// \brief The same factors as floats, for the OpenGL shader (value = Y*yScale ...).
struct YuvFloatCoefficients {
    float yOffset;  ///< in 0..1 units
    float yScale;
    float rFromV;
    float gFromU;
    float gFromV;
    float bFromU;
};
YuvFloatCoefficients yuvFloatCoefficients(YuvColorSpace space);

inline std::uint8_t clampToByte(std::int32_t value) {
    return static_cast<std::uint8_t>(std::clamp(value, 0, 255));
}

/// \brief One pixel, opaque.
inline QRgb yuvToRgb(int y, int u, int v, const YuvCoefficients& c) {
    const std::int32_t luma = (y - c.yOffset) * c.yScale + 32768;
    const std::int32_t cu = u - 128;
    const std::int32_t cv = v - 128;
    return qRgb(clampToByte((luma + c.rFromV * cv) >> 16),
                clampToByte((luma - c.gFromU * cu - c.gFromV * cv) >> 16),
                clampToByte((luma + c.bFromU * cu) >> 16));
}

/// \brief RGB -> YUV (8 bits each), for test patterns and writers of known colours.
struct Yuv {
    std::uint8_t y, u, v;
};
Yuv rgbToYuv(QRgb rgb, YuvColorSpace space);

/**
 * \brief Converts an NV12, I420, YUY2 or UYVY frame into \a out, which becomes a
 * width x height Format_RGB32 image (reallocated only when its size changes).
 * \return Unsupported for other formats; BadPool when the planes do not hold the
 * rows the format says.
 */
Result<void> convertYuvToRgb32(const Format& format, const FramePlanes& planes, QImage& out);

}  // namespace shmframe::viewer
