// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file patterns.h
 * \brief Test patterns and exact RGBA → pixel-format converters (target shmframe::patterns).
 *
 * Used by `shmframe publish`, the samples and the tests of every part: render a
 * pattern into an RgbaImage, then write it into a frame of any of the 12 formats.
 * Depends on libshmframe only (no OpenCV), so any front end's tests can link it.
 *
 * \code
 * auto spec = shmframe::patterns::parsePattern("solid:FF8000");
 * shmframe::patterns::PatternGenerator generator(*spec, 640, 480);
 * shmframe::patterns::RgbaImage image;
 * generator.render(frameIndex, image);
 * shmframe::patterns::writeFrame(image, *loanedFrame);
 * \endcode
 */
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/colorimetry.h"
#include "shmframe/error.h"
#include "shmframe/format.h"
#include "shmframe/writer.h"

namespace shmframe::patterns {

/// \brief One colour, 8 bits per channel; alpha 255 is opaque.
struct Rgba {
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;
    std::uint8_t a = 255;
    bool operator==(const Rgba&) const = default;
};

/// \brief An RGBA image, 4 bytes per pixel, rows without padding.
struct RgbaImage {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::vector<std::uint8_t> pixels;

    void resize(std::uint32_t newWidth, std::uint32_t newHeight);
    std::uint8_t* row(std::uint32_t y) { return pixels.data() + std::size_t{y} * width * 4; }
    const std::uint8_t* row(std::uint32_t y) const {
        return pixels.data() + std::size_t{y} * width * 4;
    }
    Rgba at(std::uint32_t x, std::uint32_t y) const;
    void set(std::uint32_t x, std::uint32_t y, Rgba colour);
    /// \brief Fills the rectangle, clipped to the image.
    void fillRect(std::int64_t x, std::int64_t y, std::int64_t w, std::int64_t h, Rgba colour);
};

enum class PatternKind {
    Moving,    ///< colour bars, a bouncing box and a frame counter (animated)
    Solid,     ///< one colour: solid:RRGGBB or solid:RRGGBBAA
    Gradient,  ///< red across, green down, blue across the other way
    Checkers,  ///< black and white squares: checkers or checkers:SIZE
    Noise,     ///< random colours, new every frame (animated, deterministic per frame)
    Smpte,     ///< SMPTE-like colour bars with the castellations and pluge
};

struct PatternSpec {
    PatternKind kind = PatternKind::Moving;
    Rgba colour;                     ///< for Solid
    std::uint32_t checkerSize = 32;  ///< for Checkers, in pixels
    /// \brief The spec as text again ("solid:FF8000").
    std::string describe() const;
};

/// \brief Parses a pattern name; InvalidArgument lists the valid ones.
Result<PatternSpec> parsePattern(std::string_view text);

/// \brief "moving, solid:RRGGBB[AA], gradient, checkers[:SIZE], noise, smpte".
std::string_view patternNames();

/// \brief Renders frames of one pattern at one size.
class PatternGenerator {
  public:
    PatternGenerator(PatternSpec spec, std::uint32_t width, std::uint32_t height);

    /// \brief True when frames differ from one another.
    bool animated() const;
    /// \brief Draws frame \a index (0, 1, 2 ...) into \a out (resized to the generator's size).
    /// The same index always gives the same image.
    void render(std::uint64_t index, RgbaImage& out) const;

    const PatternSpec& spec() const { return spec_; }

  private:
    PatternSpec spec_;
    std::uint32_t width_;
    std::uint32_t height_;
    RgbaImage background_;  // the static part, drawn once
};

/// \brief Draws \a value in decimal with a 5x7 pixel font, each font pixel \a scale
/// pixels wide, on a black box, top-left at (x, y).
void drawNumber(RgbaImage& image, std::uint32_t x, std::uint32_t y, std::uint64_t value,
                std::uint32_t scale, Rgba colour = {255, 255, 255, 255});

/// \brief The YUV of one colour with a colorimetry's matrix and range (BT.601 limited by default).
struct Yuv {
    std::uint8_t y = 16;
    std::uint8_t u = 128;
    std::uint8_t v = 128;
};
Yuv toYuv(Rgba colour, const Colorimetry& colorimetry = Colorimetry::bt601());
/// \brief Full-range luma 0.299 R + 0.587 G + 0.114 B, rounded (GRAY8; GRAY16_LE is 257 times it).
std::uint8_t toGray(Rgba colour);

/// \brief The planes of a frame, writable.
using PlaneSpans = std::array<std::span<std::byte>, Format::kMaxPlanes>;

/**
 * \brief Writes \a image into a frame of \a format, plane by plane, touching only
 * the pixel bytes of each row (not the row padding).
 * RGB formats are exact; x bytes are 255; GRAY8 is toGray(); GRAY16_LE 257 * toGray();
 * YUV is BT.601 limited range with chroma averaged over each 2x2 (4:2:0) or 2x1
 * (4:2:2) block.
 * \return InvalidArgument for an image of another size or planes too small.
 */
Result<void> writePlanes(const RgbaImage& image, const Format& format, const PlaneSpans& planes);

/// \brief writePlanes() into a buffer laid out as \a format (plane offsets from its start).
Result<void> writeBuffer(const RgbaImage& image, const Format& format, std::span<std::byte> buffer);

/// \brief writePlanes() into a loaned slot.
Result<void> writeFrame(const RgbaImage& image, const LoanedFrame& frame);

}  // namespace shmframe::patterns
