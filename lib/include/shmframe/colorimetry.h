// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file colorimetry.h
 * \brief How the numbers of a frame map to colours: matrix, range, transfer and
 * primaries. Part of every Format; travels with every pool.
 *
 * The enums are shmframe's own (not GStreamer's numbers), so the pool layout does
 * not depend on any framework. Their names follow GStreamer's colorimetry names
 * ("bt709", "smpte2084", ...), so a caps string maps one to one.
 *
 * A writer that says nothing gets GStreamer's default for the format and size
 * (Colorimetry::defaultFor): YUV up to 576 lines is BT.601 limited range, taller
 * YUV is BT.709 limited range, RGB is sRGB full range, gray is full range.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shmframe/error.h"

namespace shmframe {

enum class PixelFormat : std::uint32_t;

/// \brief The matrix between R'G'B' and Y'CbCr.
enum class ColorMatrix : std::uint32_t {
    Unknown = 0,
    Rgb = 1,  ///< no matrix: the samples are R'G'B'
    Bt601 = 2,
    Bt709 = 3,
    Bt2020 = 4,
    Smpte240m = 5,
    Fcc = 6,
};

/// \brief The range of the 8-bit code values.
enum class ColorRange : std::uint32_t {
    Unknown = 0,
    Full = 1,     ///< 0..255
    Limited = 2,  ///< Y 16..235, Cb/Cr 16..240 ("TV" or "studio" range)
};

/// \brief The transfer function (gamma curve) of the samples.
enum class ColorTransfer : std::uint32_t {
    Unknown = 0,
    Srgb = 1,
    Bt709 = 2,
    Bt601 = 3,
    Bt2020_10 = 4,
    Bt2020_12 = 5,
    Smpte2084 = 6,   ///< PQ
    AribStdB67 = 7,  ///< HLG
    Linear = 8,
    Gamma22 = 9,
    Gamma28 = 10,
    Smpte240m = 11,
    Log100 = 12,
    Log316 = 13,
    AdobeRgb = 14,
    Gamma18 = 15,
    Gamma20 = 16,
};

/// \brief The colour primaries (the RGB gamut).
enum class ColorPrimaries : std::uint32_t {
    Unknown = 0,
    Bt709 = 1,
    Bt470m = 2,
    Bt470bg = 3,
    Smpte170m = 4,
    Smpte240m = 5,
    Film = 6,
    Bt2020 = 7,
    AdobeRgb = 8,
    SmpteSt428 = 9,
    SmpteRp431 = 10,
    SmpteEg432 = 11,
    Ebu3213 = 12,
};

/// \brief Lower-case names ("bt709", "limited", "smpte2084"); "unknown" for Unknown.
std::string_view toString(ColorMatrix matrix);
std::string_view toString(ColorRange range);
std::string_view toString(ColorTransfer transfer);
std::string_view toString(ColorPrimaries primaries);

/// \brief Parses a name of toString(), case-insensitively; nullopt if unknown.
std::optional<ColorMatrix> colorMatrixFromString(std::string_view name);
std::optional<ColorRange> colorRangeFromString(std::string_view name);
std::optional<ColorTransfer> colorTransferFromString(std::string_view name);
std::optional<ColorPrimaries> colorPrimariesFromString(std::string_view name);

/// \brief True when the value is one of the enum's named values (Unknown included).
bool isKnownValue(ColorMatrix matrix);
bool isKnownValue(ColorRange range);
bool isKnownValue(ColorTransfer transfer);
bool isKnownValue(ColorPrimaries primaries);

/// \brief The colour description of a format. Unknown fields mean "the default".
struct Colorimetry {
    ColorMatrix matrix = ColorMatrix::Unknown;
    ColorRange range = ColorRange::Unknown;
    ColorTransfer transfer = ColorTransfer::Unknown;
    ColorPrimaries primaries = ColorPrimaries::Unknown;

    bool operator==(const Colorimetry&) const = default;

    /// \brief BT.601 (SMPTE 170M) limited range: the SD default.
    static Colorimetry bt601();
    /// \brief BT.709 limited range: the HD default.
    static Colorimetry bt709();
    /// \brief BT.2020 limited range, 12-bit transfer (as GStreamer's "bt2020").
    static Colorimetry bt2020();
    /// \brief sRGB full range: the RGB default.
    static Colorimetry srgb();

    /**
     * \brief GStreamer's default (gst_video_info_set_format) for a format and height:
     * YUV up to 576 lines bt601(), taller YUV bt709(), RGB srgb(), gray full range
     * with the BT.601 matrix; all Unknown for PixelFormat::Unknown.
     */
    static Colorimetry defaultFor(PixelFormat format, std::uint32_t height);

    /**
     * \brief This colorimetry with every Unknown field taken from defaultFor(), and a
     * YUV format's Rgb matrix replaced by the default (YUV samples need a matrix).
     * What converters use.
     */
    Colorimetry resolved(PixelFormat format, std::uint32_t height) const;

    /**
     * \brief Parses what `shmframe publish --colorimetry` takes: a preset ("bt601",
     * "bt709", "bt2020", "srgb"), optionally with a range ("bt709:full"), or all four
     * fields "RANGE:MATRIX:TRANSFER:PRIMARIES" by name ("full:bt709:bt709:bt709";
     * "unknown" allowed). InvalidArgument names the bad part.
     */
    static Result<Colorimetry> parse(std::string_view text);

    /// \brief "limited:bt709:bt709:bt709" (the form parse() takes back).
    std::string toString() const;

    /// \brief "bt709 limited range (transfer bt709, primaries bt709)" — for people.
    std::string describe() const;
};

}  // namespace shmframe
