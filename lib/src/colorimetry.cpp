// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/colorimetry.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

#include "shmframe/format.h"

namespace shmframe {
namespace {

template <typename Enum, std::size_t N>
using NameTable = std::pair<Enum, std::string_view>[N];

constexpr std::pair<ColorMatrix, std::string_view> kMatrixNames[] = {
    {ColorMatrix::Unknown, "unknown"}, {ColorMatrix::Rgb, "rgb"},
    {ColorMatrix::Bt601, "bt601"},     {ColorMatrix::Bt709, "bt709"},
    {ColorMatrix::Bt2020, "bt2020"},   {ColorMatrix::Smpte240m, "smpte240m"},
    {ColorMatrix::Fcc, "fcc"},
};

constexpr std::pair<ColorRange, std::string_view> kRangeNames[] = {
    {ColorRange::Unknown, "unknown"},
    {ColorRange::Full, "full"},
    {ColorRange::Limited, "limited"},
};

constexpr std::pair<ColorTransfer, std::string_view> kTransferNames[] = {
    {ColorTransfer::Unknown, "unknown"},     {ColorTransfer::Srgb, "srgb"},
    {ColorTransfer::Bt709, "bt709"},         {ColorTransfer::Bt601, "bt601"},
    {ColorTransfer::Bt2020_10, "bt2020-10"}, {ColorTransfer::Bt2020_12, "bt2020-12"},
    {ColorTransfer::Smpte2084, "smpte2084"}, {ColorTransfer::AribStdB67, "arib-std-b67"},
    {ColorTransfer::Linear, "linear"},       {ColorTransfer::Gamma22, "gamma22"},
    {ColorTransfer::Gamma28, "gamma28"},     {ColorTransfer::Smpte240m, "smpte240m"},
    {ColorTransfer::Log100, "log100"},       {ColorTransfer::Log316, "log316"},
    {ColorTransfer::AdobeRgb, "adobergb"},   {ColorTransfer::Gamma18, "gamma18"},
    {ColorTransfer::Gamma20, "gamma20"},
};

constexpr std::pair<ColorPrimaries, std::string_view> kPrimariesNames[] = {
    {ColorPrimaries::Unknown, "unknown"},
    {ColorPrimaries::Bt709, "bt709"},
    {ColorPrimaries::Bt470m, "bt470m"},
    {ColorPrimaries::Bt470bg, "bt470bg"},
    {ColorPrimaries::Smpte170m, "smpte170m"},
    {ColorPrimaries::Smpte240m, "smpte240m"},
    {ColorPrimaries::Film, "film"},
    {ColorPrimaries::Bt2020, "bt2020"},
    {ColorPrimaries::AdobeRgb, "adobergb"},
    {ColorPrimaries::SmpteSt428, "smpte-st428"},
    {ColorPrimaries::SmpteRp431, "smpte-rp431"},
    {ColorPrimaries::SmpteEg432, "smpte-eg432"},
    {ColorPrimaries::Ebu3213, "ebu3213"},
};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

template <typename Enum, std::size_t N>
std::string_view nameOf(const NameTable<Enum, N>& table, Enum value) {
    for (const auto& [entry, name] : table) {
        if (entry == value) {
            return name;
        }
    }
    return "invalid";
}

template <typename Enum, std::size_t N>
std::optional<Enum> valueOf(const NameTable<Enum, N>& table, std::string_view name) {
    for (const auto& [entry, entryName] : table) {
        if (equalsIgnoreCase(entryName, name)) {
            return entry;
        }
    }
    return std::nullopt;
}

template <typename Enum, std::size_t N>
bool known(const NameTable<Enum, N>& table, Enum value) {
    return std::any_of(std::begin(table), std::end(table),
                       [value](const auto& entry) { return entry.first == value; });
}

std::vector<std::string_view> splitColons(std::string_view text) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto colon = text.find(':');
        parts.push_back(text.substr(0, colon));
        if (colon == std::string_view::npos) {
            return parts;
        }
        text.remove_prefix(colon + 1);
    }
}

Error badColorimetry(std::string_view text, const std::string& why) {
    return Error::make(Errc::InvalidArgument,
                       "colorimetry '" + std::string(text) + "' " + why +
                           " (use bt601, bt709, bt2020 or srgb, optionally with :full or "
                           ":limited, or RANGE:MATRIX:TRANSFER:PRIMARIES)");
}

}  // namespace

std::string_view toString(ColorMatrix matrix) {
    return nameOf(kMatrixNames, matrix);
}
std::string_view toString(ColorRange range) {
    return nameOf(kRangeNames, range);
}
std::string_view toString(ColorTransfer transfer) {
    return nameOf(kTransferNames, transfer);
}
std::string_view toString(ColorPrimaries primaries) {
    return nameOf(kPrimariesNames, primaries);
}

std::optional<ColorMatrix> colorMatrixFromString(std::string_view name) {
    return valueOf(kMatrixNames, name);
}
std::optional<ColorRange> colorRangeFromString(std::string_view name) {
    return valueOf(kRangeNames, name);
}
std::optional<ColorTransfer> colorTransferFromString(std::string_view name) {
    return valueOf(kTransferNames, name);
}
std::optional<ColorPrimaries> colorPrimariesFromString(std::string_view name) {
    return valueOf(kPrimariesNames, name);
}

bool isKnownValue(ColorMatrix matrix) {
    return known(kMatrixNames, matrix);
}
bool isKnownValue(ColorRange range) {
    return known(kRangeNames, range);
}
bool isKnownValue(ColorTransfer transfer) {
    return known(kTransferNames, transfer);
}
bool isKnownValue(ColorPrimaries primaries) {
    return known(kPrimariesNames, primaries);
}

Colorimetry Colorimetry::bt601() {
    return {ColorMatrix::Bt601, ColorRange::Limited, ColorTransfer::Bt601,
            ColorPrimaries::Smpte170m};
}

Colorimetry Colorimetry::bt709() {
    return {ColorMatrix::Bt709, ColorRange::Limited, ColorTransfer::Bt709, ColorPrimaries::Bt709};
}

Colorimetry Colorimetry::bt2020() {
    return {ColorMatrix::Bt2020, ColorRange::Limited, ColorTransfer::Bt2020_12,
            ColorPrimaries::Bt2020};
}

Colorimetry Colorimetry::srgb() {
    return {ColorMatrix::Rgb, ColorRange::Full, ColorTransfer::Srgb, ColorPrimaries::Bt709};
}

Colorimetry Colorimetry::defaultFor(PixelFormat format, std::uint32_t height) {
    switch (format) {
        case PixelFormat::NV12:
        case PixelFormat::I420:
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            // gst_video_info_set_format(): SD is up to 576 lines (PAL), HD above.
            return height > 576 ? bt709() : bt601();
        case PixelFormat::GRAY8:
        case PixelFormat::GRAY16_LE:
            return {ColorMatrix::Bt601, ColorRange::Full, ColorTransfer::Unknown,
                    ColorPrimaries::Unknown};
        case PixelFormat::Unknown:
            return {};
        default:
            return srgb();
    }
}

Colorimetry Colorimetry::resolved(PixelFormat format, std::uint32_t height) const {
    const Colorimetry fallback = defaultFor(format, height);
    Colorimetry out = *this;
    if (out.matrix == ColorMatrix::Unknown || (isYuv(format) && out.matrix == ColorMatrix::Rgb)) {
        out.matrix = fallback.matrix;
    }
    if (out.range == ColorRange::Unknown) {
        out.range = fallback.range;
    }
    if (out.transfer == ColorTransfer::Unknown) {
        out.transfer = fallback.transfer;
    }
    if (out.primaries == ColorPrimaries::Unknown) {
        out.primaries = fallback.primaries;
    }
    return out;
}

Result<Colorimetry> Colorimetry::parse(std::string_view text) {
    const auto parts = splitColons(text);
    if (parts.size() == 4) {
        const auto range = colorRangeFromString(parts[0]);
        const auto matrix = colorMatrixFromString(parts[1]);
        const auto transfer = colorTransferFromString(parts[2]);
        const auto primaries = colorPrimariesFromString(parts[3]);
        if (!range) {
            return badColorimetry(text, "has an unknown range '" + std::string(parts[0]) + "'");
        }
        if (!matrix) {
            return badColorimetry(text, "has an unknown matrix '" + std::string(parts[1]) + "'");
        }
        if (!transfer) {
            return badColorimetry(text, "has an unknown transfer '" + std::string(parts[2]) + "'");
        }
        if (!primaries) {
            return badColorimetry(text, "has unknown primaries '" + std::string(parts[3]) + "'");
        }
        return Colorimetry{*matrix, *range, *transfer, *primaries};
    }
    if (parts.size() > 2) {
        return badColorimetry(text, "has " + std::to_string(parts.size()) + " parts");
    }
    Colorimetry preset;
    if (equalsIgnoreCase(parts[0], "bt601")) {
        preset = bt601();
    } else if (equalsIgnoreCase(parts[0], "bt709")) {
        preset = bt709();
    } else if (equalsIgnoreCase(parts[0], "bt2020")) {
        preset = bt2020();
    } else if (equalsIgnoreCase(parts[0], "srgb")) {
        preset = srgb();
    } else {
        return badColorimetry(text, "is not a known preset");
    }
    if (parts.size() == 2) {
        const auto range = colorRangeFromString(parts[1]);
        if (!range || *range == ColorRange::Unknown) {
            return badColorimetry(text, "has an unknown range '" + std::string(parts[1]) + "'");
        }
        preset.range = *range;
    }
    return preset;
}

std::string Colorimetry::toString() const {
    return std::string(shmframe::toString(range)) + ":" + std::string(shmframe::toString(matrix)) +
           ":" + std::string(shmframe::toString(transfer)) + ":" +
           std::string(shmframe::toString(primaries));
}

std::string Colorimetry::describe() const {
    return std::string(shmframe::toString(matrix)) + " " + std::string(shmframe::toString(range)) +
           " range (transfer " + std::string(shmframe::toString(transfer)) + ", primaries " +
           std::string(shmframe::toString(primaries)) + ")";
}

}  // namespace shmframe
