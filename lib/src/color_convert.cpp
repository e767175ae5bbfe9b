// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/color_convert.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace shmframe {
namespace {

struct LumaWeights {
    double kr;
    double kb;
};

// Kr and Kb of each matrix (ITU-R BT.601, BT.709, BT.2020, SMPTE 240M, FCC 73.682).
LumaWeights weightsOf(ColorMatrix matrix) {
    switch (matrix) {
        case ColorMatrix::Bt709:
            return {0.2126, 0.0722};
        case ColorMatrix::Bt2020:
            return {0.2627, 0.0593};
        case ColorMatrix::Smpte240m:
            return {0.212, 0.087};
        case ColorMatrix::Fcc:
            return {0.30, 0.11};
        case ColorMatrix::Bt601:
        case ColorMatrix::Rgb:
        case ColorMatrix::Unknown:
            break;
    }
    return {0.299, 0.114};
}

bool isFull(ColorRange range) {
    return range == ColorRange::Full;
}

// The factors in 16.16 fixed point.
struct FixedFactors {
    std::int32_t yOffset;
    std::int32_t yScale;
    std::int32_t rFromV;
    std::int32_t gFromU;
    std::int32_t gFromV;
    std::int32_t bFromU;
};

std::int32_t toFixed(double value) {
    return static_cast<std::int32_t>(std::lround(value * 65536.0));
}

FixedFactors fixedFactors(const Colorimetry& colorimetry) {
    const YuvToRgbFactors f = yuvToRgbFactors(colorimetry);
    return {static_cast<std::int32_t>(f.yOffset),
            toFixed(f.yScale),
            toFixed(f.rFromV),
            toFixed(f.gFromU),
            toFixed(f.gFromV),
            toFixed(f.bFromU)};
}

std::uint8_t clampToByte(std::int32_t value) {
    return static_cast<std::uint8_t>(std::clamp(value, 0, 255));
}

const std::uint8_t* bytesOf(std::span<const std::byte> plane) {
    return reinterpret_cast<const std::uint8_t*>(plane.data());
}

// One row with one U and one V per pixel into B G R A: plain contiguous loops the
// compiler turns into SIMD (an AVX2 clone where the CPU has it). +32768 rounds to
// nearest; >> of a negative value floors (arithmetic shift), so rounding holds there too.
[[gnu::target_clones("avx2", "default")]] void yuvRowToBgra(const std::uint8_t* y,
                                                            const std::uint8_t* u,
                                                            const std::uint8_t* v,
                                                            std::uint32_t* out, int width,
                                                            FixedFactors c) {
    for (int x = 0; x < width; ++x) {
        const std::int32_t luma = (std::int32_t(y[x]) - c.yOffset) * c.yScale + 32768;
        const std::int32_t cu = std::int32_t(u[x]) - 128;
        const std::int32_t cv = std::int32_t(v[x]) - 128;
        const std::int32_t r = std::clamp((luma + c.rFromV * cv) >> 16, 0, 255);
        const std::int32_t g = std::clamp((luma - c.gFromU * cu - c.gFromV * cv) >> 16, 0, 255);
        const std::int32_t b = std::clamp((luma + c.bFromU * cu) >> 16, 0, 255);
        out[x] =
            0xff000000u | (std::uint32_t(r) << 16) | (std::uint32_t(g) << 8) | std::uint32_t(b);
    }
}

// Per-row scratch: chroma (and packed luma) spread to one value per pixel, and a
// B G R A row for orders other than Bgra.
struct RowBuffers {
    explicit RowBuffers(std::size_t width) : y(width), u(width), v(width), bgra(width) {}
    std::vector<std::uint8_t> y, u, v;
    std::vector<std::uint32_t> bgra;
};

// Writes one B G R A row (as uint32 0xAARRGGBB) in \a order.
void storeRow(const std::uint32_t* bgra, int width, RgbOrder order, std::byte* out) {
    auto* bytes = reinterpret_cast<std::uint8_t*>(out);
    switch (order) {
        case RgbOrder::Bgra:
            for (int x = 0; x < width; ++x) {
                const std::uint32_t p = bgra[x];
                bytes[4 * x] = std::uint8_t(p);
                bytes[4 * x + 1] = std::uint8_t(p >> 8);
                bytes[4 * x + 2] = std::uint8_t(p >> 16);
                bytes[4 * x + 3] = std::uint8_t(p >> 24);
            }
            return;
        case RgbOrder::Rgba:
            for (int x = 0; x < width; ++x) {
                const std::uint32_t p = bgra[x];
                bytes[4 * x] = std::uint8_t(p >> 16);
                bytes[4 * x + 1] = std::uint8_t(p >> 8);
                bytes[4 * x + 2] = std::uint8_t(p);
                bytes[4 * x + 3] = std::uint8_t(p >> 24);
            }
            return;
        case RgbOrder::Bgr:
            for (int x = 0; x < width; ++x) {
                const std::uint32_t p = bgra[x];
                bytes[3 * x] = std::uint8_t(p);
                bytes[3 * x + 1] = std::uint8_t(p >> 8);
                bytes[3 * x + 2] = std::uint8_t(p >> 16);
            }
            return;
        case RgbOrder::Rgb:
            for (int x = 0; x < width; ++x) {
                const std::uint32_t p = bgra[x];
                bytes[3 * x] = std::uint8_t(p >> 16);
                bytes[3 * x + 1] = std::uint8_t(p >> 8);
                bytes[3 * x + 2] = std::uint8_t(p);
            }
            return;
    }
}

// The row buffer to convert into: the output itself when it is B G R A on a
// little-endian machine (the common viewer case), else the scratch row.
std::uint32_t* rowTarget(RgbOrder order, std::byte* outRow, RowBuffers& rows) {
    if constexpr (std::endian::native == std::endian::little) {
        if (order == RgbOrder::Bgra && reinterpret_cast<std::uintptr_t>(outRow) % 4 == 0) {
            return reinterpret_cast<std::uint32_t*>(outRow);
        }
    }
    return rows.bgra.data();
}

void finishRow(RgbOrder order, std::byte* outRow, RowBuffers& rows, const std::uint32_t* target,
               int width) {
    if (target == rows.bgra.data()) {
        storeRow(target, width, order, outRow);
    }
}

void convertPlanarYuv(const Format& format, const PlaneBytes& planes, RgbOrder order,
                      std::byte* out, std::size_t outStride, const FixedFactors& c) {
    const bool nv12 = format.pixelFormat == PixelFormat::NV12;
    const std::uint8_t* yPlane = bytesOf(planes[0]);
    const std::uint8_t* uPlane = bytesOf(planes[1]);
    const std::uint8_t* vPlane = nv12 ? nullptr : bytesOf(planes[2]);
    const std::size_t yStride = format.planes[0].stride;
    const std::size_t uStride = format.planes[1].stride;
    const std::size_t vStride = nv12 ? 0 : format.planes[2].stride;
    const int width = int(format.width);
    const int height = int(format.height);
    RowBuffers rows(format.width);
    for (int row = 0; row < height; ++row) {
        // Chroma rows serve two luma rows: spread them once per pair.
        if (row % 2 == 0) {
            const std::uint8_t* uRow = uPlane + std::size_t(row / 2) * uStride;
            if (nv12) {
                for (int x = 0; x < width; ++x) {
                    rows.u[std::size_t(x)] = uRow[2 * (x / 2)];
                    rows.v[std::size_t(x)] = uRow[2 * (x / 2) + 1];
                }
            } else {
                const std::uint8_t* vRow = vPlane + std::size_t(row / 2) * vStride;
                for (int x = 0; x < width; ++x) {
                    rows.u[std::size_t(x)] = uRow[x / 2];
                    rows.v[std::size_t(x)] = vRow[x / 2];
                }
            }
        }
        std::byte* outRow = out + std::size_t(row) * outStride;
        std::uint32_t* target = rowTarget(order, outRow, rows);
        yuvRowToBgra(yPlane + std::size_t(row) * yStride, rows.u.data(), rows.v.data(), target,
                     width, c);
        finishRow(order, outRow, rows, target, width);
    }
}

void convertPackedYuv(const Format& format, const PlaneBytes& planes, RgbOrder order,
                      std::byte* out, std::size_t outStride, const FixedFactors& c) {
    // YUY2: Y0 U Y1 V; UYVY: U Y0 V Y1.
    const bool yuy2 = format.pixelFormat == PixelFormat::YUY2;
    const int y0 = yuy2 ? 0 : 1;
    const int y1 = yuy2 ? 2 : 3;
    const int uAt = yuy2 ? 1 : 0;
    const int vAt = yuy2 ? 3 : 2;
    const std::uint8_t* plane = bytesOf(planes[0]);
    const std::size_t stride = format.planes[0].stride;
    const int width = int(format.width);
    const int height = int(format.height);
    RowBuffers rows(format.width);
    for (int row = 0; row < height; ++row) {
        const std::uint8_t* src = plane + std::size_t(row) * stride;
        for (int x = 0; x < width; ++x) {
            const std::uint8_t* quad = src + 4 * (x / 2);
            rows.y[std::size_t(x)] = quad[x % 2 ? y1 : y0];
            rows.u[std::size_t(x)] = quad[uAt];
            rows.v[std::size_t(x)] = quad[vAt];
        }
        std::byte* outRow = out + std::size_t(row) * outStride;
        std::uint32_t* target = rowTarget(order, outRow, rows);
        yuvRowToBgra(rows.y.data(), rows.u.data(), rows.v.data(), target, width, c);
        finishRow(order, outRow, rows, target, width);
    }
}

// Where R, G, B and alpha sit in a packed RGB or gray pixel; alpha -1 when none.
struct PackedRgb {
    int bytes;
    int r, g, b, a;
};

PackedRgb packedRgbOf(PixelFormat format) {
    switch (format) {
        case PixelFormat::RGBA:
            return {4, 0, 1, 2, 3};
        case PixelFormat::BGRA:
            return {4, 2, 1, 0, 3};
        case PixelFormat::RGBx:
            return {4, 0, 1, 2, -1};
        case PixelFormat::BGRx:
            return {4, 2, 1, 0, -1};
        case PixelFormat::RGB:
            return {3, 0, 1, 2, -1};
        case PixelFormat::BGR:
            return {3, 2, 1, 0, -1};
        case PixelFormat::GRAY8:
            return {1, 0, 0, 0, -1};
        default:
            return {0, 0, 0, 0, -1};
    }
}

void convertPackedRgb(const Format& format, const PlaneBytes& planes, RgbOrder order,
                      std::byte* out, std::size_t outStride) {
    const std::uint8_t* plane = bytesOf(planes[0]);
    const std::size_t stride = format.planes[0].stride;
    const int width = int(format.width);
    RowBuffers rows(format.width);
    const PackedRgb in = packedRgbOf(format.pixelFormat);
    const bool gray16 = format.pixelFormat == PixelFormat::GRAY16_LE;
    for (std::uint32_t row = 0; row < format.height; ++row) {
        const std::uint8_t* src = plane + std::size_t(row) * stride;
        std::byte* outRow = out + std::size_t(row) * outStride;
        std::uint32_t* target = rowTarget(order, outRow, rows);
        for (int x = 0; x < width; ++x) {
            std::uint32_t r, g, b, a = 255;
            if (gray16) {
                const std::uint32_t value = src[2 * x] | (std::uint32_t(src[2 * x + 1]) << 8);
                r = g = b = (value * 255 + 32767) / 65535;
            } else {
                const std::uint8_t* pixel = src + std::size_t(in.bytes) * std::size_t(x);
                r = pixel[in.r];
                g = pixel[in.g];
                b = pixel[in.b];
                if (in.a >= 0) {
                    a = pixel[in.a];
                }
            }
            target[x] = (a << 24) | (r << 16) | (g << 8) | b;
        }
        finishRow(order, outRow, rows, target, width);
    }
}

Result<void> checkPlanes(const Format& format, const PlaneBytes& planes) {
    for (std::uint32_t i = 0; i < format.planeCount; ++i) {
        const std::uint64_t rows = format.planeRows(i);
        const std::uint64_t needed =
            std::uint64_t{format.planes[i].stride} * (rows - 1) + format.rowBytes(i);
        if (planes[i].data() == nullptr || planes[i].size() < needed) {
            return Error::make(Errc::BadPool, "plane " + std::to_string(i) + " of " +
                                                  format.describe() + " holds " +
                                                  std::to_string(planes[i].size()) +
                                                  " bytes, needs " + std::to_string(needed));
        }
    }
    return {};
}

}  // namespace

std::uint32_t bytesPerPixel(RgbOrder order) {
    return order == RgbOrder::Bgr || order == RgbOrder::Rgb ? 3 : 4;
}

YuvToRgbFactors yuvToRgbFactors(const Colorimetry& colorimetry) {
    const auto [kr, kb] = weightsOf(colorimetry.matrix);
    const double kg = 1.0 - kr - kb;
    const bool full = isFull(colorimetry.range);
    // Limited range: Y 16..235 (219 steps) and Cb/Cr 16..240 (224 steps) span 0..255;
    // full range: Y 0..255, Cb/Cr 128 +- 127.5 (as GStreamer and JPEG).
    const double yScale = full ? 1.0 : 255.0 / 219.0;
    const double cScale = full ? 1.0 : 255.0 / 224.0;
    return {full ? 0.0 : 16.0,
            yScale,
            (2.0 - 2.0 * kr) * cScale,
            (2.0 * kb * (1.0 - kb) / kg) * cScale,
            (2.0 * kr * (1.0 - kr) / kg) * cScale,
            (2.0 - 2.0 * kb) * cScale};
}

std::array<std::uint8_t, 3> yuvToRgb(std::uint8_t y, std::uint8_t u, std::uint8_t v,
                                     const Colorimetry& colorimetry) {
    std::uint32_t bgra = 0;
    yuvRowToBgra(&y, &u, &v, &bgra, 1, fixedFactors(colorimetry));
    return {std::uint8_t(bgra >> 16), std::uint8_t(bgra >> 8), std::uint8_t(bgra)};
}

std::array<std::uint8_t, 3> rgbToYuv(std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                     const Colorimetry& colorimetry) {
    const auto [kr, kb] = weightsOf(colorimetry.matrix);
    const double kg = 1.0 - kr - kb;
    const double luma = (kr * r + kg * g + kb * b) / 255.0;
    const double pb = (b / 255.0 - luma) / (2.0 - 2.0 * kb);
    const double pr = (r / 255.0 - luma) / (2.0 - 2.0 * kr);
    const bool full = isFull(colorimetry.range);
    const auto code = [](double value) {
        return clampToByte(static_cast<std::int32_t>(std::lround(value)));
    };
    if (full) {
        return {code(255.0 * luma), code(128.0 + 255.0 * pb), code(128.0 + 255.0 * pr)};
    }
    return {code(16.0 + 219.0 * luma), code(128.0 + 224.0 * pb), code(128.0 + 224.0 * pr)};
}

void rgbRowToYuv(const std::uint8_t* row, std::uint32_t width, RgbOrder order,
                 const Colorimetry& colorimetry, std::uint8_t* y, std::uint8_t* u,
                 std::uint8_t* v) {
    const auto [kr, kb] = weightsOf(colorimetry.matrix);
    const double kg = 1.0 - kr - kb;
    const bool full = isFull(colorimetry.range);
    const double yRange = full ? 255.0 : 219.0;
    const double cRange = full ? 255.0 : 224.0;
    const std::int32_t yOffset = full ? 0 : 16;
    // Y = kr R + kg G + kb B; Cb = (B - Y) / (2 - 2 kb); Cr = (R - Y) / (2 - 2 kr).
    const auto fixed = [](double value) { return toFixed(value / 255.0); };
    const std::int32_t yr = fixed(kr * yRange), yg = fixed(kg * yRange), yb = fixed(kb * yRange);
    const double cb = cRange / (2.0 - 2.0 * kb);
    const double cr = cRange / (2.0 - 2.0 * kr);
    const std::int32_t ur = fixed(-kr * cb), ug = fixed(-kg * cb), ub = fixed((1.0 - kb) * cb);
    const std::int32_t vr = fixed((1.0 - kr) * cr), vg = fixed(-kg * cr), vb = fixed(-kb * cr);
    const std::uint32_t pixelBytes = bytesPerPixel(order);
    const bool bgrFirst = order == RgbOrder::Bgra || order == RgbOrder::Bgr;
    const std::size_t rAt = bgrFirst ? 2 : 0;
    const std::size_t bAt = bgrFirst ? 0 : 2;
    for (std::uint32_t x = 0; x < width; ++x) {
        const std::uint8_t* pixel = row + std::size_t(pixelBytes) * x;
        const std::int32_t r = pixel[rAt];
        const std::int32_t g = pixel[1];
        const std::int32_t b = pixel[bAt];
        y[x] = clampToByte(yOffset + ((yr * r + yg * g + yb * b + 32768) >> 16));
        u[x] = clampToByte(128 + ((ur * r + ug * g + ub * b + 32768) >> 16));
        v[x] = clampToByte(128 + ((vr * r + vg * g + vb * b + 32768) >> 16));
    }
}

Result<void> convertToRgb(const Format& format, const PlaneBytes& planes, RgbOrder order,
                          std::byte* out, std::size_t outStride) {
    if (auto valid = format.validate(); !valid) {
        return valid;
    }
    if (out == nullptr || outStride < std::size_t{format.width} * bytesPerPixel(order)) {
        return Error::make(Errc::InvalidArgument, "output rows of " + std::to_string(outStride) +
                                                      " bytes are too short for " +
                                                      std::to_string(format.width) + " pixels");
    }
    if (auto checked = checkPlanes(format, planes); !checked) {
        return checked;
    }
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    switch (format.pixelFormat) {
        case PixelFormat::NV12:
        case PixelFormat::I420:
            convertPlanarYuv(format, planes, order, out, outStride, fixedFactors(colorimetry));
            return {};
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            convertPackedYuv(format, planes, order, out, outStride, fixedFactors(colorimetry));
            return {};
        default:
            convertPackedRgb(format, planes, order, out, outStride);
            return {};
    }
}

}  // namespace shmframe
