// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/format.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

namespace shmframe {
namespace {

struct FormatTraits {
    PixelFormat format;
    std::string_view name;
    std::uint32_t planes;
    bool yuv;
};

constexpr FormatTraits kTraits[] = {
    {PixelFormat::RGBA, "RGBA", 1, false},   {PixelFormat::BGRA, "BGRA", 1, false},
    {PixelFormat::RGBx, "RGBx", 1, false},   {PixelFormat::BGRx, "BGRx", 1, false},
    {PixelFormat::RGB, "RGB", 1, false},     {PixelFormat::BGR, "BGR", 1, false},
    {PixelFormat::GRAY8, "GRAY8", 1, false}, {PixelFormat::GRAY16_LE, "GRAY16_LE", 1, false},
    {PixelFormat::NV12, "NV12", 2, true},    {PixelFormat::I420, "I420", 3, true},
    {PixelFormat::YUY2, "YUY2", 1, true},    {PixelFormat::UYVY, "UYVY", 1, true},
};

const FormatTraits* traitsOf(PixelFormat format) {
    for (const auto& traits : kTraits) {
        if (traits.format == format) {
            return &traits;
        }
    }
    return nullptr;
}

std::uint64_t halfUp(std::uint64_t value) {
    return (value + 1) / 2;
}

std::uint64_t roundUp(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

Error layoutError(std::string field, std::string what) {
    return Error::make(Errc::InvalidArgument, "format field '" + field + "' " + what);
}

}  // namespace

std::string_view toString(PixelFormat format) {
    const auto* traits = traitsOf(format);
    return traits ? traits->name : "UNKNOWN";
}

std::optional<PixelFormat> pixelFormatFromString(std::string_view name) {
    for (const auto& traits : kTraits) {
        if (equalsIgnoreCase(traits.name, name)) {
            return traits.format;
        }
    }
    return std::nullopt;
}

const std::vector<PixelFormat>& allPixelFormats() {
    static const std::vector<PixelFormat> formats = [] {
        std::vector<PixelFormat> all;
        for (const auto& traits : kTraits) {
            all.push_back(traits.format);
        }
        return all;
    }();
    return formats;
}

std::uint32_t planeCount(PixelFormat format) {
    const auto* traits = traitsOf(format);
    return traits ? traits->planes : 0;
}

bool isYuv(PixelFormat format) {
    const auto* traits = traitsOf(format);
    return traits && traits->yuv;
}

std::uint64_t Format::rowBytes(std::uint32_t plane) const {
    const std::uint64_t w = width;
    switch (pixelFormat) {
        case PixelFormat::RGBA:
        case PixelFormat::BGRA:
        case PixelFormat::RGBx:
        case PixelFormat::BGRx:
            return plane == 0 ? w * 4 : 0;
        case PixelFormat::RGB:
        case PixelFormat::BGR:
            return plane == 0 ? w * 3 : 0;
        case PixelFormat::GRAY8:
            return plane == 0 ? w : 0;
        case PixelFormat::GRAY16_LE:
            return plane == 0 ? w * 2 : 0;
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            return plane == 0 ? halfUp(w) * 4 : 0;
        case PixelFormat::NV12:
            return plane == 0 ? w : plane == 1 ? halfUp(w) * 2 : 0;
        case PixelFormat::I420:
            return plane == 0 ? w : plane <= 2 ? halfUp(w) : 0;
        case PixelFormat::Unknown:
            return 0;
    }
    return 0;
}

std::uint32_t Format::planeRows(std::uint32_t plane) const {
    if (plane >= shmframe::planeCount(pixelFormat)) {
        return 0;
    }
    const bool subsampled =
        plane > 0 && (pixelFormat == PixelFormat::NV12 || pixelFormat == PixelFormat::I420);
    return subsampled ? static_cast<std::uint32_t>(halfUp(height)) : height;
}

Result<Format> Format::make(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height,
                            Fraction frameRate, std::uint32_t strideAlign) {
    if (!traitsOf(pixelFormat)) {
        return Error::make(Errc::InvalidArgument, "unknown pixel format");
    }
    if (strideAlign == 0 || strideAlign > 4096 || (strideAlign & (strideAlign - 1)) != 0) {
        return Error::make(Errc::InvalidArgument,
                           "stride alignment must be a power of two from 1 to 4096, not " +
                               std::to_string(strideAlign));
    }
    Format format;
    format.pixelFormat = pixelFormat;
    format.width = width;
    format.height = height;
    format.frameRate = frameRate;
    format.planeCount = shmframe::planeCount(pixelFormat);
    if (width == 0 || height == 0 || width > kMaxDimension || height > kMaxDimension) {
        return Error::make(Errc::InvalidArgument, "frame size " + std::to_string(width) + "x" +
                                                      std::to_string(height) +
                                                      " is out of range (1 to " +
                                                      std::to_string(kMaxDimension) + " per side)");
    }
    std::uint64_t offset = 0;
    for (std::uint32_t i = 0; i < format.planeCount; ++i) {
        const std::uint64_t stride = roundUp(format.rowBytes(i), strideAlign);
        Plane& plane = format.planes[i];
        plane.offset = offset;
        plane.stride = static_cast<std::uint32_t>(stride);
        plane.size = stride * format.planeRows(i);
        offset = roundUp(offset + plane.size, strideAlign);
    }
    format.frameSize = offset;
    format.colorimetry = Colorimetry::defaultFor(pixelFormat, height);
    if (auto valid = format.validate(); !valid) {
        return std::move(valid).error();
    }
    return format;
}

Result<Format> Format::withLayout(PixelFormat pixelFormat, std::uint32_t width,
                                  std::uint32_t height, Fraction frameRate,
                                  const std::vector<Plane>& planes, std::uint64_t frameSize) {
    Format format;
    format.pixelFormat = pixelFormat;
    format.width = width;
    format.height = height;
    format.frameRate = frameRate;
    format.planeCount = static_cast<std::uint32_t>(planes.size());
    if (planes.size() > kMaxPlanes) {
        return layoutError("planeCount", "is " + std::to_string(planes.size()) + ", at most 4");
    }
    std::copy(planes.begin(), planes.end(), format.planes.begin());
    format.frameSize = frameSize;
    format.colorimetry = Colorimetry::defaultFor(pixelFormat, height);
    if (auto valid = format.validate(); !valid) {
        return std::move(valid).error();
    }
    return format;
}

Result<void> Format::validate() const {
    if (!traitsOf(pixelFormat)) {
        return layoutError("pixelFormat",
                           "is not a known format (value " +
                               std::to_string(static_cast<std::uint32_t>(pixelFormat)) + ")");
    }
    if (width == 0 || width > kMaxDimension) {
        return layoutError("width", "is " + std::to_string(width) + ", must be 1 to " +
                                        std::to_string(kMaxDimension));
    }
    if (height == 0 || height > kMaxDimension) {
        return layoutError("height", "is " + std::to_string(height) + ", must be 1 to " +
                                         std::to_string(kMaxDimension));
    }
    if (frameRate.num < 0 || frameRate.den <= 0) {
        return layoutError("frameRate", "is " + std::to_string(frameRate.num) + "/" +
                                            std::to_string(frameRate.den) +
                                            ", must be n/d with n>=0, d>0");
    }
    if (planeCount != shmframe::planeCount(pixelFormat)) {
        return layoutError("planeCount", "is " + std::to_string(planeCount) + " but " +
                                             std::string(toString(pixelFormat)) + " has " +
                                             std::to_string(shmframe::planeCount(pixelFormat)));
    }
    if (frameSize == 0 || frameSize > (std::uint64_t{1} << 32)) {
        return layoutError("frameSize", "is " + std::to_string(frameSize) + ", must be 1 to 4 GiB");
    }
    std::uint64_t previousEnd = 0;
    for (std::uint32_t i = 0; i < planeCount; ++i) {
        const Plane& plane = planes[i];
        const std::string field = "planes[" + std::to_string(i) + "]";
        const std::uint64_t rows = planeRows(i);
        if (plane.stride < rowBytes(i)) {
            return layoutError(field + ".stride", "is " + std::to_string(plane.stride) +
                                                      ", less than a row of " +
                                                      std::to_string(rowBytes(i)) + " bytes");
        }
        const std::uint64_t needed = std::uint64_t{plane.stride} * (rows - 1) + rowBytes(i);
        if (plane.size < needed) {
            return layoutError(field + ".size", "is " + std::to_string(plane.size) + ", needs " +
                                                    std::to_string(needed));
        }
        if (plane.offset > frameSize || plane.size > frameSize - plane.offset) {
            return layoutError(field + ".offset",
                               "puts the plane past the frame size " + std::to_string(frameSize));
        }
        if (plane.offset < previousEnd) {
            return layoutError(field + ".offset", "overlaps the plane before it");
        }
        previousEnd = plane.offset + plane.size;
    }
    for (std::uint32_t i = planeCount; i < kMaxPlanes; ++i) {
        if (planes[i] != Plane{}) {
            return layoutError("planes[" + std::to_string(i) + "]", "is set past the plane count");
        }
    }
    if (caps.size() > kMaxCapsLength) {
        return layoutError("caps", "is " + std::to_string(caps.size()) + " bytes, at most " +
                                       std::to_string(kMaxCapsLength));
    }
    if (caps.find('\0') != std::string::npos) {
        return layoutError("caps", "contains a NUL byte");
    }
    const auto badColour = [](std::string field, auto value) {
        return layoutError(
            "colorimetry." + field,
            "is not a known value (" + std::to_string(static_cast<std::uint32_t>(value)) + ")");
    };
    if (!isKnownValue(colorimetry.matrix)) {
        return badColour("matrix", colorimetry.matrix);
    }
    if (!isKnownValue(colorimetry.range)) {
        return badColour("range", colorimetry.range);
    }
    if (!isKnownValue(colorimetry.transfer)) {
        return badColour("transfer", colorimetry.transfer);
    }
    if (!isKnownValue(colorimetry.primaries)) {
        return badColour("primaries", colorimetry.primaries);
    }
    return {};
}

std::string Format::describe() const {
    std::string text = std::string(toString(pixelFormat)) + " " + std::to_string(width) + "x" +
                       std::to_string(height);
    if (frameRate.num > 0) {
        text += " @ " + std::to_string(frameRate.num) + "/" + std::to_string(frameRate.den);
    }
    return text;
}

Result<std::pair<std::uint32_t, std::uint32_t>> parseSize(std::string_view text) {
    const auto bad = [&] {
        return Error::make(Errc::InvalidArgument,
                           "size '" + std::string(text) + "' is not WIDTHxHEIGHT (e.g. 1280x720)");
    };
    const auto x = text.find_first_of("xX");
    if (x == std::string_view::npos) {
        return bad();
    }
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    const auto w = text.substr(0, x);
    const auto h = text.substr(x + 1);
    auto [wEnd, wErr] = std::from_chars(w.data(), w.data() + w.size(), width);
    auto [hEnd, hErr] = std::from_chars(h.data(), h.data() + h.size(), height);
    if (w.empty() || h.empty() || wErr != std::errc() || hErr != std::errc() ||
        wEnd != w.data() + w.size() || hEnd != h.data() + h.size()) {
        return bad();
    }
    if (width == 0 || height == 0 || width > Format::kMaxDimension ||
        height > Format::kMaxDimension) {
        return Error::make(Errc::InvalidArgument,
                           "size '" + std::string(text) + "' is out of range (1 to " +
                               std::to_string(Format::kMaxDimension) + " per side)");
    }
    return std::pair{width, height};
}

}  // namespace shmframe
