// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file format.h
 * \brief Pixel formats and the frame layout that travels with every pool.
 *
 * Format names are GStreamer's video format names ("RGBA", "NV12", ...), so a
 * caps string maps one to one. A Format fixes the planes of one frame: their
 * offsets from the start of the frame, their strides and sizes, and its colours
 * (Colorimetry: matrix, range, transfer, primaries).
 */
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/colorimetry.h"
#include "shmframe/error.h"

namespace shmframe {

/// \brief The pixel formats a pool can hold (GStreamer names).
enum class PixelFormat : std::uint32_t {
    Unknown = 0,
    RGBA = 1,
    BGRA = 2,
    RGBx = 3,
    BGRx = 4,
    RGB = 5,
    BGR = 6,
    GRAY8 = 7,
    GRAY16_LE = 8,
    NV12 = 9,
    I420 = 10,
    YUY2 = 11,
    UYVY = 12,
};

/// \brief The GStreamer name of a format ("RGBA"); "UNKNOWN" for Unknown.
std::string_view toString(PixelFormat format);
/// \brief Parses a GStreamer format name, case-insensitively; nullopt if unknown.
std::optional<PixelFormat> pixelFormatFromString(std::string_view name);
/// \brief Every supported format, in enum order.
const std::vector<PixelFormat>& allPixelFormats();
/// \brief Number of planes of a format (1 for packed, 2 for NV12, 3 for I420).
std::uint32_t planeCount(PixelFormat format);
/// \brief True for NV12, I420, YUY2, UYVY.
bool isYuv(PixelFormat format);

/// \brief One plane of a frame: where it starts in the frame, bytes per row, size.
struct Plane {
    std::uint64_t offset = 0;
    std::uint32_t stride = 0;
    std::uint64_t size = 0;
    bool operator==(const Plane&) const = default;
};

/// \brief A rational frame rate; 0/1 means "variable or unknown".
struct Fraction {
    std::int32_t num = 0;
    std::int32_t den = 1;
    bool operator==(const Fraction&) const = default;
    double toDouble() const { return den ? double(num) / double(den) : 0.0; }
};

/// \brief The complete description of one frame in a pool.
struct Format {
    static constexpr std::uint32_t kMaxPlanes = 4;
    static constexpr std::uint32_t kMaxDimension = 16384;
    static constexpr std::size_t kMaxCapsLength = 1023;

    PixelFormat pixelFormat = PixelFormat::Unknown;
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    Fraction frameRate;
    std::uint32_t planeCount = 0;
    std::array<Plane, kMaxPlanes> planes{};
    std::uint64_t frameSize = 0;  ///< bytes from the first byte of plane 0 to the end
    std::string caps;             ///< GStreamer caps string, verbatim (may be empty)
    /**
     * How the samples map to colours. make() and withLayout() set GStreamer's
     * default for the format and height (Colorimetry::defaultFor); a writer with
     * other colours sets this field before creating the pool. Unknown fields are
     * allowed and mean that default (Colorimetry::resolved()).
     */
    Colorimetry colorimetry;

    /**
     * \brief A format with the default layout: each row padded to \a strideAlign
     * bytes (a power of two, 1 to 4096), planes one after the other.
     * \return InvalidArgument for a zero or too large size, odd sizes where the
     * format subsamples, or a bad alignment.
     */
    static Result<Format> make(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height,
                               Fraction frameRate = {}, std::uint32_t strideAlign = 64);

    /**
     * \brief A format with an explicit layout (as GstVideoInfo gives it).
     * The layout is checked like one read from shared memory.
     */
    static Result<Format> withLayout(PixelFormat pixelFormat, std::uint32_t width,
                                     std::uint32_t height, Fraction frameRate,
                                     const std::vector<Plane>& planes, std::uint64_t frameSize);

    /**
     * \brief Checks every field: known format, sizes in range, plane count, each
     * plane's stride at least its row bytes, each plane inside frameSize, planes not
     * overlapping, caps length, colorimetry values known. The message names the
     * offending field.
     */
    Result<void> validate() const;

    /// \brief Bytes of one row of pixels in plane \a plane (without padding).
    std::uint64_t rowBytes(std::uint32_t plane) const;
    /// \brief Number of rows in plane \a plane.
    std::uint32_t planeRows(std::uint32_t plane) const;

    /// \brief "RGBA 1280x720 @ 30/1" — for logs and the CLI.
    std::string describe() const;

    bool operator==(const Format&) const = default;
};

/// \brief Parses "WxH" (e.g. "1280x720"); InvalidArgument names the text.
Result<std::pair<std::uint32_t, std::uint32_t>> parseSize(std::string_view text);

}  // namespace shmframe
