// SPDX-License-Identifier: LGPL-2.1-or-later
#include "patterns.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "shmframe/color_convert.h"

namespace shmframe::patterns {
namespace {

constexpr std::array<Rgba, 8> kBars = {{
    {255, 255, 255, 255},  // white
    {255, 255, 0, 255},    // yellow
    {0, 255, 255, 255},    // cyan
    {0, 255, 0, 255},      // green
    {255, 0, 255, 255},    // magenta
    {255, 0, 0, 255},      // red
    {0, 0, 255, 255},      // blue
    {0, 0, 0, 255},        // black
}};

// 5x7 digits, one byte per row, bit 4 is the leftmost pixel.
constexpr std::array<std::array<std::uint8_t, 7>, 10> kDigits = {{
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},
}};

std::optional<std::uint8_t> hexByte(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    if (ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return static_cast<std::uint8_t>(value);
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Error badPattern(std::string_view text, std::string_view why) {
    return Error::make(Errc::InvalidArgument,
                       "bad pattern '" + std::string(text) + "': " + std::string(why) +
                           " (valid patterns: " + std::string(patternNames()) + ")");
}

// Position along a back-and-forth path of `travel` pixels.
std::int64_t bounce(std::uint64_t index, std::uint64_t step, std::int64_t travel) {
    if (travel <= 0) {
        return 0;
    }
    const auto period = static_cast<std::uint64_t>(2 * travel);
    const auto pos = static_cast<std::int64_t>((index * step) % period);
    return pos <= travel ? pos : 2 * travel - pos;
}

void drawBars(RgbaImage& image, std::uint32_t top, std::uint32_t height) {
    const std::uint32_t width = image.width;
    for (std::uint32_t i = 0; i < kBars.size(); ++i) {
        const std::uint32_t left = width * i / kBars.size();
        const std::uint32_t right = width * (i + 1) / kBars.size();
        image.fillRect(left, top, right - left, height, kBars[i]);
    }
}

void drawSmpte(RgbaImage& image) {
    const std::uint32_t width = image.width;
    const std::uint32_t height = image.height;
    constexpr std::uint8_t k75 = 191;
    const std::array<Rgba, 7> top = {{{k75, k75, k75, 255},
                                      {k75, k75, 0, 255},
                                      {0, k75, k75, 255},
                                      {0, k75, 0, 255},
                                      {k75, 0, k75, 255},
                                      {k75, 0, 0, 255},
                                      {0, 0, k75, 255}}};
    const std::array<Rgba, 7> middle = {{{0, 0, k75, 255},
                                         {19, 19, 19, 255},
                                         {k75, 0, k75, 255},
                                         {19, 19, 19, 255},
                                         {0, k75, k75, 255},
                                         {19, 19, 19, 255},
                                         {k75, k75, k75, 255}}};
    const std::uint32_t topHeight = height * 2 / 3;
    const std::uint32_t middleHeight = height / 12;
    for (std::uint32_t i = 0; i < 7; ++i) {
        const std::uint32_t left = width * i / 7;
        const std::uint32_t right = width * (i + 1) / 7;
        image.fillRect(left, 0, right - left, topHeight, top[i]);
        image.fillRect(left, topHeight, right - left, middleHeight, middle[i]);
    }
    // Bottom: -I, white, +Q, black, then the pluge (below black, black, above black).
    const std::uint32_t bottomTop = topHeight + middleHeight;
    const std::uint32_t bottomHeight = height - bottomTop;
    const std::array<std::pair<std::uint32_t, Rgba>, 8> bottom = {{
        {5, {0, 33, 76, 255}},
        {5, {255, 255, 255, 255}},
        {5, {50, 0, 106, 255}},
        {5, {19, 19, 19, 255}},
        {2, {9, 9, 9, 255}},
        {2, {19, 19, 19, 255}},
        {2, {29, 29, 29, 255}},
        {4, {19, 19, 19, 255}},
    }};
    std::uint32_t units = 0;
    for (const auto& [span, colour] : bottom) {
        const std::uint32_t left = width * units / 30;
        units += span;
        const std::uint32_t right = width * units / 30;
        image.fillRect(left, bottomTop, right - left, bottomHeight, colour);
    }
}

struct ChromaSum {
    int u = 0;
    int v = 0;
};

// One image row as full-resolution Y, U and V with the format's matrix and range.
struct YuvRow {
    explicit YuvRow(std::uint32_t width) : y(width), u(width), v(width) {}
    void fill(const RgbaImage& image, std::uint32_t row, const Colorimetry& colorimetry) {
        rgbRowToYuv(image.row(row), image.width, RgbOrder::Rgba, colorimetry, y.data(), u.data(),
                    v.data());
    }
    std::vector<std::uint8_t> y, u, v;
};
std::uint8_t rawGray(const std::uint8_t* rgba) {
    return static_cast<std::uint8_t>((299 * rgba[0] + 587 * rgba[1] + 114 * rgba[2] + 500) / 1000);
}

std::uint8_t* rowOf(const std::span<std::byte>& plane, std::uint32_t stride, std::uint32_t row) {
    return reinterpret_cast<std::uint8_t*>(plane.data()) + std::size_t{stride} * row;
}

// Per byte of a packed pixel: which RGBA channel goes there; 4 means "255" (x padding).
// A template, so each format's loop is unrolled with its order known.
template <int... Order>
void writePacked(const RgbaImage& image, std::span<std::byte> plane, std::uint32_t stride) {
    constexpr std::size_t kBytesPerPixel = sizeof...(Order);
    constexpr int kOrder[] = {Order...};
    for (std::uint32_t y = 0; y < image.height; ++y) {
        const std::uint8_t* in = image.row(y);
        std::uint8_t* out = rowOf(plane, stride, y);
        if constexpr (kBytesPerPixel == 4 && kOrder[0] == 0 && kOrder[1] == 1 && kOrder[2] == 2 &&
                      kOrder[3] == 3) {
            std::memcpy(out, in, std::size_t{image.width} * 4);  // RGBA is the image's own layout
            continue;
        }
        for (std::uint32_t x = 0; x < image.width; ++x, in += 4, out += kBytesPerPixel) {
            for (std::size_t c = 0; c < kBytesPerPixel; ++c) {
                out[c] = kOrder[c] == 4 ? 255 : in[kOrder[c]];
            }
        }
    }
}

std::uint32_t halfUp(std::uint32_t value) {
    return (value + 1) / 2;
}

// 4:2:0: one chroma sample per 2x2 block, the average of the block's pixels (fewer
// at the right and bottom edges of odd-sized frames).
void writeYuv420(const RgbaImage& image, const Format& format, const PlaneSpans& planes,
                 bool interleavedChroma) {
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    const std::uint32_t width = image.width;
    const std::uint32_t height = image.height;
    std::array<YuvRow, 2> rows{YuvRow(width), YuvRow(width)};
    for (std::uint32_t cy = 0; cy < halfUp(height); ++cy) {
        const std::uint32_t rowCount = std::min<std::uint32_t>(2, height - 2 * cy);
        for (std::uint32_t dy = 0; dy < rowCount; ++dy) {
            rows[dy].fill(image, 2 * cy + dy, colorimetry);
            std::uint8_t* luma = rowOf(planes[0], format.planes[0].stride, 2 * cy + dy);
            std::copy(rows[dy].y.begin(), rows[dy].y.end(), luma);
        }
        std::uint8_t* first = rowOf(planes[1], format.planes[1].stride, cy);
        std::uint8_t* second =
            interleavedChroma ? nullptr : rowOf(planes[2], format.planes[2].stride, cy);
        for (std::uint32_t cx = 0; cx < halfUp(width); ++cx) {
            const std::uint32_t cols = std::min<std::uint32_t>(2, width - 2 * cx);
            ChromaSum sum;
            for (std::uint32_t dy = 0; dy < rowCount; ++dy) {
                for (std::uint32_t dx = 0; dx < cols; ++dx) {
                    sum.u += rows[dy].u[2 * cx + dx];
                    sum.v += rows[dy].v[2 * cx + dx];
                }
            }
            const int count = static_cast<int>(rowCount * cols);
            const auto u = static_cast<std::uint8_t>((sum.u + count / 2) / count);
            const auto v = static_cast<std::uint8_t>((sum.v + count / 2) / count);
            if (interleavedChroma) {
                first[2 * cx] = u;
                first[2 * cx + 1] = v;
            } else {
                first[cx] = u;
                second[cx] = v;
            }
        }
    }
}

// 4:2:2 packed: one chroma pair per two pixels; an odd last pixel is repeated.
void writeYuv422(const RgbaImage& image, const Format& format, std::span<std::byte> plane,
                 std::uint32_t stride, bool yuy2) {
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    YuvRow yuv(image.width);
    for (std::uint32_t y = 0; y < image.height; ++y) {
        yuv.fill(image, y, colorimetry);
        std::uint8_t* out = rowOf(plane, stride, y);
        for (std::uint32_t x = 0; x < image.width; x += 2) {
            const std::uint32_t right = x + 1 < image.width ? x + 1 : x;
            const std::uint8_t y0 = yuv.y[x];
            const std::uint8_t y1 = yuv.y[right];
            const auto u = static_cast<std::uint8_t>((yuv.u[x] + yuv.u[right] + 1) / 2);
            const auto v = static_cast<std::uint8_t>((yuv.v[x] + yuv.v[right] + 1) / 2);
            std::uint8_t* pair = out + 2 * x;
            if (yuy2) {
                pair[0] = y0, pair[1] = u, pair[2] = y1, pair[3] = v;
            } else {
                pair[0] = u, pair[1] = y0, pair[2] = v, pair[3] = y1;
            }
        }
    }
}

// Row bytes and rows of each plane in the layout we write (checked against the spans).
struct PlaneNeed {
    std::uint64_t rowBytes = 0;
    std::uint32_t rows = 0;
};

std::array<PlaneNeed, Format::kMaxPlanes> planeNeeds(const Format& format) {
    const std::uint64_t w = format.width;
    const std::uint64_t halfWidth = halfUp(format.width);
    const std::uint32_t h = format.height;
    std::array<PlaneNeed, Format::kMaxPlanes> needs{};
    switch (format.pixelFormat) {
        case PixelFormat::RGBA:
        case PixelFormat::BGRA:
        case PixelFormat::RGBx:
        case PixelFormat::BGRx:
            needs[0] = {4 * w, h};
            break;
        case PixelFormat::RGB:
        case PixelFormat::BGR:
            needs[0] = {3 * w, h};
            break;
        case PixelFormat::GRAY8:
            needs[0] = {w, h};
            break;
        case PixelFormat::GRAY16_LE:
            needs[0] = {2 * w, h};
            break;
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            needs[0] = {4 * halfWidth, h};
            break;
        case PixelFormat::NV12:
            needs[0] = {w, h};
            needs[1] = {2 * halfWidth, halfUp(h)};
            break;
        case PixelFormat::I420:
            needs[0] = {w, h};
            needs[1] = {halfWidth, halfUp(h)};
            needs[2] = {halfWidth, halfUp(h)};
            break;
        default:
            break;
    }
    return needs;
}

}  // namespace

void RgbaImage::resize(std::uint32_t newWidth, std::uint32_t newHeight) {
    width = newWidth;
    height = newHeight;
    pixels.resize(std::size_t{newWidth} * newHeight * 4);
}

Rgba RgbaImage::at(std::uint32_t x, std::uint32_t y) const {
    const std::uint8_t* p = row(y) + 4 * std::size_t{x};
    return {p[0], p[1], p[2], p[3]};
}

void RgbaImage::set(std::uint32_t x, std::uint32_t y, Rgba colour) {
    std::uint8_t* p = row(y) + 4 * std::size_t{x};
    p[0] = colour.r;
    p[1] = colour.g;
    p[2] = colour.b;
    p[3] = colour.a;
}

void RgbaImage::fillRect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h,
                         Rgba colour) {
    const std::int64_t left = std::clamp<std::int64_t>(x, 0, width);
    const std::int64_t right = std::clamp<std::int64_t>(x + w, 0, width);
    const std::int64_t top = std::clamp<std::int64_t>(y, 0, height);
    const std::int64_t bottom = std::clamp<std::int64_t>(y + h, 0, height);
    if (left >= right) {
        return;
    }
    const std::uint8_t pixel[4] = {colour.r, colour.g, colour.b, colour.a};
    for (std::int64_t row = top; row < bottom; ++row) {
        std::uint8_t* out = this->row(static_cast<std::uint32_t>(row)) + 4 * left;
        for (std::int64_t col = left; col < right; ++col, out += 4) {
            std::memcpy(out, pixel, 4);
        }
    }
}

std::string_view patternNames() {
    return "moving, solid:RRGGBB[AA], gradient, checkers[:SIZE], noise, smpte";
}

std::string PatternSpec::describe() const {
    switch (kind) {
        case PatternKind::Moving:
            return "moving";
        case PatternKind::Solid: {
            char text[16];
            if (colour.a == 255) {
                std::snprintf(text, sizeof text, "%02X%02X%02X", colour.r, colour.g, colour.b);
            } else {
                std::snprintf(text, sizeof text, "%02X%02X%02X%02X", colour.r, colour.g, colour.b,
                              colour.a);
            }
            return "solid:" + std::string(text);
        }
        case PatternKind::Gradient:
            return "gradient";
        case PatternKind::Checkers:
            return "checkers:" + std::to_string(checkerSize);
        case PatternKind::Noise:
            return "noise";
        case PatternKind::Smpte:
            return "smpte";
    }
    return "?";
}

Result<PatternSpec> parsePattern(std::string_view text) {
    const std::string name = lower(text.substr(0, text.find(':')));
    const bool hasArgument = text.find(':') != std::string_view::npos;
    const std::string_view argument = hasArgument ? text.substr(text.find(':') + 1) : "";
    PatternSpec spec;
    if (name == "moving" || name == "gradient" || name == "noise" || name == "smpte") {
        if (hasArgument) {
            return badPattern(text, "'" + name + "' takes no argument");
        }
        spec.kind = name == "moving"     ? PatternKind::Moving
                    : name == "gradient" ? PatternKind::Gradient
                    : name == "noise"    ? PatternKind::Noise
                                         : PatternKind::Smpte;
        return spec;
    }
    if (name == "solid") {
        if (argument.size() != 6 && argument.size() != 8) {
            return badPattern(text, "solid needs a colour as 6 or 8 hex digits, e.g. solid:FF8000");
        }
        std::array<std::uint8_t, 4> channels = {0, 0, 0, 255};
        for (std::size_t i = 0; i < argument.size() / 2; ++i) {
            auto value = hexByte(argument.substr(2 * i, 2));
            if (!value) {
                return badPattern(text, "'" + std::string(argument) + "' is not hexadecimal");
            }
            channels[i] = *value;
        }
        spec.kind = PatternKind::Solid;
        spec.colour = {channels[0], channels[1], channels[2], channels[3]};
        return spec;
    }
    if (name == "checkers") {
        spec.kind = PatternKind::Checkers;
        if (hasArgument) {
            unsigned size = 0;
            auto [end, ec] =
                std::from_chars(argument.data(), argument.data() + argument.size(), size);
            if (ec != std::errc() || end != argument.data() + argument.size() || size < 1 ||
                size > Format::kMaxDimension) {
                return badPattern(text, "the checker size must be a number of pixels, 1 to 16384");
            }
            spec.checkerSize = size;
        }
        return spec;
    }
    return badPattern(text, "unknown pattern");
}

PatternGenerator::PatternGenerator(PatternSpec spec, std::uint32_t width, std::uint32_t height)
    : spec_(spec), width_(width), height_(height) {
    background_.resize(width, height);
    switch (spec_.kind) {
        case PatternKind::Moving: {
            const std::uint32_t barsHeight = height * 3 / 4;
            drawBars(background_, 0, barsHeight);
            for (std::uint32_t x = 0; x < width; ++x) {
                const auto level =
                    static_cast<std::uint8_t>(width > 1 ? std::uint64_t{x} * 255 / (width - 1) : 0);
                background_.fillRect(x, barsHeight, 1, height - barsHeight,
                                     {level, level, level, 255});
            }
            break;
        }
        case PatternKind::Solid:
            background_.fillRect(0, 0, width, height, spec_.colour);
            break;
        case PatternKind::Gradient:
            for (std::uint32_t y = 0; y < height; ++y) {
                const auto green = static_cast<std::uint8_t>(
                    height > 1 ? std::uint64_t{y} * 255 / (height - 1) : 0);
                for (std::uint32_t x = 0; x < width; ++x) {
                    const auto red = static_cast<std::uint8_t>(
                        width > 1 ? std::uint64_t{x} * 255 / (width - 1) : 0);
                    background_.set(x, y, {red, green, static_cast<std::uint8_t>(255 - red), 255});
                }
            }
            break;
        case PatternKind::Checkers:
            for (std::uint32_t y = 0; y < height; ++y) {
                for (std::uint32_t x = 0; x < width; ++x) {
                    const bool white = ((x / spec_.checkerSize) + (y / spec_.checkerSize)) % 2 == 0;
                    const std::uint8_t level = white ? 255 : 0;
                    background_.set(x, y, {level, level, level, 255});
                }
            }
            break;
        case PatternKind::Smpte:
            drawSmpte(background_);
            break;
        case PatternKind::Noise:
            break;
    }
}

bool PatternGenerator::animated() const {
    return spec_.kind == PatternKind::Moving || spec_.kind == PatternKind::Noise;
}

void PatternGenerator::render(std::uint64_t index, RgbaImage& out) const {
    out.resize(width_, height_);
    if (spec_.kind == PatternKind::Noise) {
        // xorshift64*, seeded by the frame index: the same index, the same noise.
        std::uint64_t state = (index + 1) * 0x9E3779B97F4A7C15ull;
        for (std::size_t i = 0; i < out.pixels.size(); i += 4) {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            const std::uint64_t random = state * 0x2545F4914F6CDD1Dull;
            out.pixels[i] = static_cast<std::uint8_t>(random >> 24);
            out.pixels[i + 1] = static_cast<std::uint8_t>(random >> 32);
            out.pixels[i + 2] = static_cast<std::uint8_t>(random >> 40);
            out.pixels[i + 3] = 255;
        }
        return;
    }
    out.pixels = background_.pixels;
    if (spec_.kind != PatternKind::Moving) {
        return;
    }
    const std::int64_t side = std::max<std::int64_t>(4, std::min(width_, height_) / 6);
    const std::int64_t x = bounce(index, std::max<std::uint32_t>(1, width_ / 90), width_ - side);
    const std::int64_t y = bounce(index, std::max<std::uint32_t>(1, height_ / 60), height_ - side);
    out.fillRect(x, y, side, side, {0, 0, 0, 255});
    out.fillRect(x + 2, y + 2, side - 4, side - 4, {255, 128, 0, 255});
    const std::uint32_t scale = std::max<std::uint32_t>(1, height_ / 120);
    drawNumber(out, 2 * scale, 2 * scale, index, scale);
}

void drawNumber(RgbaImage& image, std::uint32_t x, std::uint32_t y, std::uint64_t value,
                std::uint32_t scale, Rgba colour) {
    const std::string digits = std::to_string(value);
    const std::int64_t advance = 6 * std::int64_t{scale};
    image.fillRect(x, y, advance * static_cast<std::int64_t>(digits.size()) + scale, 9 * scale,
                   {0, 0, 0, 255});
    std::int64_t left = x + std::int64_t{scale};
    for (char digit : digits) {
        const auto& glyph = kDigits[static_cast<std::size_t>(digit - '0')];
        for (std::int64_t row = 0; row < 7; ++row) {
            for (std::int64_t col = 0; col < 5; ++col) {
                if (glyph[static_cast<std::size_t>(row)] & (0x10 >> col)) {
                    image.fillRect(left + col * scale, y + (row + 1) * scale, scale, scale, colour);
                }
            }
        }
        left += advance;
    }
}

Yuv toYuv(Rgba colour, const Colorimetry& colorimetry) {
    const auto yuv = rgbToYuv(colour.r, colour.g, colour.b, colorimetry);
    return {yuv[0], yuv[1], yuv[2]};
}

std::uint8_t toGray(Rgba colour) {
    const std::uint8_t rgba[4] = {colour.r, colour.g, colour.b, colour.a};
    return rawGray(rgba);
}

Result<void> writePlanes(const RgbaImage& image, const Format& format, const PlaneSpans& planes) {
    if (image.width != format.width || image.height != format.height) {
        return Error::make(Errc::InvalidArgument, "image of " + std::to_string(image.width) + "x" +
                                                      std::to_string(image.height) +
                                                      " does not fit a frame of " +
                                                      format.describe());
    }
    const auto needs = planeNeeds(format);
    if (needs[0].rows == 0) {
        return Error::make(Errc::Unsupported, "cannot write pixel format " +
                                                  std::string(toString(format.pixelFormat)));
    }
    for (std::uint32_t i = 0; i < Format::kMaxPlanes && needs[i].rows > 0; ++i) {
        const std::uint64_t stride = format.planes[i].stride;
        const std::uint64_t needed = stride * (needs[i].rows - 1) + needs[i].rowBytes;
        if (stride < needs[i].rowBytes || planes[i].size() < needed) {
            return Error::make(Errc::InvalidArgument,
                               "plane " + std::to_string(i) + " of " + format.describe() +
                                   " is too small: " + std::to_string(planes[i].size()) +
                                   " bytes with stride " + std::to_string(stride) + ", " +
                                   std::to_string(needed) + " needed");
        }
    }
    const std::uint32_t stride = format.planes[0].stride;
    switch (format.pixelFormat) {
        case PixelFormat::RGBA:
            writePacked<0, 1, 2, 3>(image, planes[0], stride);
            break;
        case PixelFormat::BGRA:
            writePacked<2, 1, 0, 3>(image, planes[0], stride);
            break;
        case PixelFormat::RGBx:
            writePacked<0, 1, 2, 4>(image, planes[0], stride);
            break;
        case PixelFormat::BGRx:
            writePacked<2, 1, 0, 4>(image, planes[0], stride);
            break;
        case PixelFormat::RGB:
            writePacked<0, 1, 2>(image, planes[0], stride);
            break;
        case PixelFormat::BGR:
            writePacked<2, 1, 0>(image, planes[0], stride);
            break;
        case PixelFormat::GRAY8:
            for (std::uint32_t y = 0; y < image.height; ++y) {
                const std::uint8_t* in = image.row(y);
                std::uint8_t* out = rowOf(planes[0], stride, y);
                for (std::uint32_t x = 0; x < image.width; ++x) {
                    out[x] = rawGray(in + 4 * x);
                }
            }
            break;
        case PixelFormat::GRAY16_LE:
            for (std::uint32_t y = 0; y < image.height; ++y) {
                const std::uint8_t* in = image.row(y);
                std::uint8_t* out = rowOf(planes[0], stride, y);
                for (std::uint32_t x = 0; x < image.width; ++x) {
                    const unsigned value = 257u * rawGray(in + 4 * x);
                    out[2 * x] = static_cast<std::uint8_t>(value & 0xFF);
                    out[2 * x + 1] = static_cast<std::uint8_t>(value >> 8);
                }
            }
            break;
        case PixelFormat::NV12:
            writeYuv420(image, format, planes, true);
            break;
        case PixelFormat::I420:
            writeYuv420(image, format, planes, false);
            break;
        case PixelFormat::YUY2:
            writeYuv422(image, format, planes[0], stride, true);
            break;
        case PixelFormat::UYVY:
            writeYuv422(image, format, planes[0], stride, false);
            break;
        default:
            break;
    }
    return {};
}

Result<void> writeBuffer(const RgbaImage& image, const Format& format,
                         std::span<std::byte> buffer) {
    PlaneSpans planes{};
    for (std::uint32_t i = 0; i < format.planeCount && i < Format::kMaxPlanes; ++i) {
        const Plane& plane = format.planes[i];
        if (plane.offset > buffer.size() || plane.size > buffer.size() - plane.offset) {
            return Error::make(Errc::InvalidArgument, "buffer of " + std::to_string(buffer.size()) +
                                                          " bytes is too small for plane " +
                                                          std::to_string(i) + " of " +
                                                          format.describe());
        }
        planes[i] = buffer.subspan(plane.offset, plane.size);
    }
    return writePlanes(image, format, planes);
}

Result<void> writeFrame(const RgbaImage& image, const LoanedFrame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    PlaneSpans planes{};
    for (std::uint32_t i = 0; i < frame.format().planeCount && i < Format::kMaxPlanes; ++i) {
        planes[i] = frame.plane(i);
    }
    return writePlanes(image, frame.format(), planes);
}

}  // namespace shmframe::patterns
