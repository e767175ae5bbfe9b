// SPDX-License-Identifier: LGPL-2.1-or-later
#include "test_pattern.h"

#include <cstdlib>

#include "yuv_convert.h"

namespace shmframe::viewer::test {

namespace {

constexpr std::array<QRgb, kBars> kColors = {
    0xffffffff, 0xffffff00, 0xff00ffff, 0xff00ff00, 0xffff00ff, 0xffff0000, 0xff0000ff, 0xff000000,
};
constexpr std::array<int, kBars> kGrays = {235, 200, 170, 128, 96, 64, 32, 8};

// GRAY16_LE low byte: not equal to the high byte, so a byte swap shows.
constexpr int kGray16Low = 0x40;

std::byte b(int value) {
    return std::byte(static_cast<unsigned char>(value));
}

}  // namespace

QRgb barColor(int bar) {
    return kColors[std::size_t(bar)];
}

int barGray(int bar) {
    return kGrays[std::size_t(bar)];
}

int barAt(int x, int width) {
    return std::min(kBars - 1, x * kBars / width);
}

QRgb expectedColor(const Format& format, int bar) {
    switch (format.pixelFormat) {
        case PixelFormat::GRAY8: {
            const int g = barGray(bar);
            return qRgb(g, g, g);
        }
        case PixelFormat::GRAY16_LE: {
            const int v = barGray(bar) * 256 + kGray16Low;
            const int g = (v - (v >> 8) + 0x80) >> 8;
            return qRgb(g, g, g);
        }
        default:
            return barColor(bar);
    }
}

int tolerance(PixelFormat format) {
    if (isYuv(format))
        return 6;
    if (format == PixelFormat::GRAY16_LE)
        return 1;
    return 0;
}

bool closeTo(QRgb a, QRgb b, int tol) {
    return std::abs(qRed(a) - qRed(b)) <= tol && std::abs(qGreen(a) - qGreen(b)) <= tol &&
           std::abs(qBlue(a) - qBlue(b)) <= tol;
}

void fillBars(const Format& format, const WritablePlanes& planes) {
    const int width = int(format.width);
    const int height = int(format.height);
    const auto rowOf = [&](std::uint32_t plane, int row) {
        return planes[plane].data() + std::size_t(row) * format.planes[plane].stride;
    };
    const Colorimetry space = colorimetryOf(format);
    switch (format.pixelFormat) {
        case PixelFormat::RGBA:
        case PixelFormat::RGBx:
        case PixelFormat::BGRA:
        case PixelFormat::BGRx:
        case PixelFormat::RGB:
        case PixelFormat::BGR: {
            const bool bgr = format.pixelFormat == PixelFormat::BGRA ||
                             format.pixelFormat == PixelFormat::BGRx ||
                             format.pixelFormat == PixelFormat::BGR;
            const int bpp =
                (format.pixelFormat == PixelFormat::RGB || format.pixelFormat == PixelFormat::BGR)
                    ? 3
                    : 4;
            for (int row = 0; row < height; ++row) {
                std::byte* out = rowOf(0, row);
                for (int x = 0; x < width; ++x, out += bpp) {
                    const QRgb c = barColor(barAt(x, width));
                    out[0] = b(bgr ? qBlue(c) : qRed(c));
                    out[1] = b(qGreen(c));
                    out[2] = b(bgr ? qRed(c) : qBlue(c));
                    if (bpp == 4)
                        out[3] = b(255);
                }
            }
            break;
        }
        case PixelFormat::GRAY8:
            for (int row = 0; row < height; ++row) {
                std::byte* out = rowOf(0, row);
                for (int x = 0; x < width; ++x)
                    out[x] = b(barGray(barAt(x, width)));
            }
            break;
        case PixelFormat::GRAY16_LE:
            for (int row = 0; row < height; ++row) {
                std::byte* out = rowOf(0, row);
                for (int x = 0; x < width; ++x) {
                    out[2 * x] = b(kGray16Low);
                    out[2 * x + 1] = b(barGray(barAt(x, width)));
                }
            }
            break;
        case PixelFormat::NV12:
        case PixelFormat::I420: {
            for (int row = 0; row < height; ++row) {
                std::byte* out = rowOf(0, row);
                for (int x = 0; x < width; ++x)
                    out[x] = b(rgbToYuv(barColor(barAt(x, width)), space).y);
            }
            for (int row = 0; row < height / 2; ++row) {
                for (int cx = 0; cx < width / 2; ++cx) {
                    const Yuv yuv = rgbToYuv(barColor(barAt(2 * cx, width)), space);
                    if (format.pixelFormat == PixelFormat::NV12) {
                        rowOf(1, row)[2 * cx] = b(yuv.u);
                        rowOf(1, row)[2 * cx + 1] = b(yuv.v);
                    } else {
                        rowOf(1, row)[cx] = b(yuv.u);
                        rowOf(2, row)[cx] = b(yuv.v);
                    }
                }
            }
            break;
        }
        case PixelFormat::YUY2:
        case PixelFormat::UYVY: {
            const bool yuy2 = format.pixelFormat == PixelFormat::YUY2;
            for (int row = 0; row < height; ++row) {
                std::byte* out = rowOf(0, row);
                for (int x = 0; x + 1 < width; x += 2, out += 4) {
                    const Yuv left = rgbToYuv(barColor(barAt(x, width)), space);
                    const Yuv right = rgbToYuv(barColor(barAt(x + 1, width)), space);
                    if (yuy2) {
                        out[0] = b(left.y);
                        out[1] = b(left.u);
                        out[2] = b(right.y);
                        out[3] = b(left.v);
                    } else {
                        out[0] = b(left.u);
                        out[1] = b(left.y);
                        out[2] = b(left.v);
                        out[3] = b(right.y);
                    }
                }
            }
            break;
        }
        default:
            break;
    }
}

}  // namespace shmframe::viewer::test
