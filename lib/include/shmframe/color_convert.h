// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file color_convert.h
 * \brief The one YUV/RGB/gray to 8-bit RGB conversion of shmframe, with the matrix
 * and range the Format names. The viewer (CPU and OpenGL), `shmframe snapshot`
 * and the OpenCV helpers all use it, so one frame has one colour everywhere.
 *
 * The arithmetic is exact BT.601/709/2020/SMPTE 240M/FCC maths in 16.16 fixed
 * point, rounded to nearest: every output is within 1 of the real-number result
 * (usually equal to it). Chroma of NV12/I420/YUY2/UYVY is repeated over the
 * pixels it covers (no interpolation), so colour edges are sharp but may differ
 * from an interpolating converter (GStreamer's videoconvert) on the edge pixels.
 *
 * \code
 * std::vector<std::byte> bgra(4 * format.width * format.height);
 * auto done = shmframe::convertToRgb(frame.format(), planes, RgbOrder::Bgra,
 *                                    bgra.data(), 4 * format.width);
 * \endcode
 */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "shmframe/colorimetry.h"
#include "shmframe/error.h"
#include "shmframe/format.h"

namespace shmframe {

/// \brief The byte order of a converted pixel.
enum class RgbOrder {
    Bgra,  ///< B G R A: QImage::Format_RGB32/ARGB32 on little-endian machines
    Rgba,  ///< R G B A
    Bgr,   ///< B G R: OpenCV's CV_8UC3
    Rgb,   ///< R G B
};

/// \brief Bytes per pixel of \a order (3 or 4).
std::uint32_t bytesPerPixel(RgbOrder order);

/**
 * \brief The YUV to R'G'B' factors of a resolved colorimetry, in 8-bit code
 * values: R = (Y - yOffset) * yScale + rFromV * (V - 128), G = (Y - yOffset) *
 * yScale - gFromU * (U - 128) - gFromV * (V - 128), B = (Y - yOffset) * yScale +
 * bFromU * (U - 128). The OpenGL viewer passes these to its shader, the CPU path
 * uses them in fixed point: the same table.
 */
struct YuvToRgbFactors {
    double yOffset = 0;
    double yScale = 1;
    double rFromV = 0;
    double gFromU = 0;
    double gFromV = 0;
    double bFromU = 0;
};

/**
 * \brief The factors for \a colorimetry's matrix and range. An Unknown or Rgb
 * matrix gives BT.601's and an Unknown range limited range: resolve the
 * colorimetry against its format first (Colorimetry::resolved()).
 */
YuvToRgbFactors yuvToRgbFactors(const Colorimetry& colorimetry);

/// \brief One YUV pixel to R, G, B with the factors of \a colorimetry (the converter's arithmetic).
std::array<std::uint8_t, 3> yuvToRgb(std::uint8_t y, std::uint8_t u, std::uint8_t v,
                                     const Colorimetry& colorimetry);

/// \brief R'G'B' to Y'CbCr (rounded), the inverse, for test patterns and writers.
std::array<std::uint8_t, 3> rgbToYuv(std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                     const Colorimetry& colorimetry);

/**
 * \brief One row of \a width pixels laid out as \a order to full-resolution Y, U
 * and V codes with \a colorimetry's matrix and range (rounded to nearest; resolve
 * the colorimetry first; alpha is ignored). Subsampling (averaging U and V) is the
 * caller's.
 */
void rgbRowToYuv(const std::uint8_t* row, std::uint32_t width, RgbOrder order,
                 const Colorimetry& colorimetry, std::uint8_t* y, std::uint8_t* u, std::uint8_t* v);

/// \brief The planes of one frame as byte spans (empty past the plane count).
using PlaneBytes = std::array<std::span<const std::byte>, Format::kMaxPlanes>;

/**
 * \brief Converts a frame of any PixelFormat to 8-bit RGB in \a order, with the
 * matrix and range of format.colorimetry (resolved against the format).
 *
 * YUV formats use the colorimetry; RGB formats are reordered (alpha kept where
 * both have it, 255 otherwise); GRAY8 is repeated into R, G and B; GRAY16_LE is
 * rounded to 8 bits first.
 *
 * \param format the frame's format (layout and colorimetry).
 * \param planes the frame's planes; each must hold the rows the format says.
 * \param order the byte order of the output pixels.
 * \param out the first byte of the first output row; rows are \a outStride bytes
 *        apart and at least width * bytesPerPixel(order) long.
 * \param outStride bytes from one output row to the next.
 * \return InvalidArgument for a format that does not validate or a too small
 *         stride; BadPool when a plane is shorter than the format says.
 */
Result<void> convertToRgb(const Format& format, const PlaneBytes& planes, RgbOrder order,
                          std::byte* out, std::size_t outStride);

}  // namespace shmframe
