// SPDX-License-Identifier: LGPL-2.1-or-later
// Colour bars the viewer tests publish, and the colours the view must show for them.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <QRgb>

#include <shmframe/format.h>

namespace shmframe::viewer::test {

constexpr int kBars = 8;

/// Vertical bars, left to right: white, yellow, cyan, green, magenta, red, blue, black.
QRgb barColor(int bar);
/// Grey levels of the bars for GRAY8 / GRAY16_LE (high byte for GRAY16_LE).
int barGray(int bar);
/// The bar pixel column \a x of a \a width wide frame falls in.
int barAt(int x, int width);

/// What a correct view shows for bar \a bar of a frame in \a format.
QRgb expectedColor(const Format& format, int bar);
/// How far (per channel) a correct view may differ: 0 for RGB and GRAY8, 1 for
/// GRAY16_LE (rounding to 8 bits), a few levels for YUV (8-bit maths both ways).
int tolerance(PixelFormat format);

using WritablePlanes = std::array<std::span<std::byte>, Format::kMaxPlanes>;

/// Writes the bars into a frame of \a format.
void fillBars(const Format& format, const WritablePlanes& planes);

/// True when \a a and \a b differ by at most \a tolerance in each of R, G, B.
bool closeTo(QRgb a, QRgb b, int tolerance);

}  // namespace shmframe::viewer::test
