// SPDX-License-Identifier: LGPL-2.1-or-later
#include "yuv_convert.h"

#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

namespace shmframe::viewer {

namespace {

struct LumaWeights {
    double kr;
    double kb;
};

LumaWeights weightsOf(YuvMatrix matrix) {
    switch (matrix) {
        case YuvMatrix::Bt601:
            return {0.299, 0.114};
        case YuvMatrix::Bt709:
            return {0.2126, 0.0722};
        case YuvMatrix::Bt2020:
            return {0.2627, 0.0593};
        case YuvMatrix::Smpte240m:
            return {0.212, 0.087};
        case YuvMatrix::Fcc:
            return {0.30, 0.11};
    }
    return {0.299, 0.114};
}

struct RealCoefficients {
    double yOffset;  // in 8-bit code values
    double yScale;
    double rFromV;
    double gFromU;
    double gFromV;
    double bFromU;
};

RealCoefficients realCoefficients(YuvColorSpace space) {
    const auto [kr, kb] = weightsOf(space.matrix);
    const double kg = 1.0 - kr - kb;
    const bool limited = space.range == YuvRange::Limited;
    const double yScale = limited ? 255.0 / 219.0 : 1.0;
    const double cScale = limited ? 255.0 / 224.0 : 1.0;
    return {limited ? 16.0 : 0.0,
            yScale,
            (2.0 - 2.0 * kr) * cScale,
            (2.0 * kb * (1.0 - kb) / kg) * cScale,
            (2.0 * kr * (1.0 - kr) / kg) * cScale,
            (2.0 - 2.0 * kb) * cScale};
}

std::int32_t toFixed(double value) {
    return static_cast<std::int32_t>(std::lround(value * 65536.0));
}

// The value of "colorimetry=" in a caps string, without "(string)" and quotes.
std::string_view colorimetryOf(std::string_view caps) {
    const std::size_t key = caps.find("colorimetry=");
    if (key == std::string_view::npos)
        return {};
    std::string_view rest = caps.substr(key + 12);
    if (rest.starts_with("(string)"))
        rest.remove_prefix(8);
    if (rest.starts_with('"'))
        rest.remove_prefix(1);
    const std::size_t end = rest.find_first_of(",;\" ");
    return rest.substr(0, end);
}

std::optional<YuvColorSpace> parseColorimetry(std::string_view text) {
    if (text == "bt601")
        return YuvColorSpace{YuvMatrix::Bt601, YuvRange::Limited};
    if (text == "bt709")
        return YuvColorSpace{YuvMatrix::Bt709, YuvRange::Limited};
    if (text.starts_with("bt2020") || text.starts_with("bt2100"))
        return YuvColorSpace{YuvMatrix::Bt2020, YuvRange::Limited};
    if (text == "smpte240m")
        return YuvColorSpace{YuvMatrix::Smpte240m, YuvRange::Limited};
    // "range:matrix:transfer:primaries" with GstVideoColorRange / GstVideoColorMatrix numbers.
    int range = 0;
    int matrix = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto first = std::from_chars(begin, end, range);
    if (first.ec != std::errc() || first.ptr == end || *first.ptr != ':')
        return std::nullopt;
    auto second = std::from_chars(first.ptr + 1, end, matrix);
    if (second.ec != std::errc())
        return std::nullopt;
    YuvColorSpace space;
    space.range = range == 1 ? YuvRange::Full : YuvRange::Limited;
    switch (matrix) {
        case 2:
            space.matrix = YuvMatrix::Fcc;
            break;
        case 3:
            space.matrix = YuvMatrix::Bt709;
            break;
        case 5:
            space.matrix = YuvMatrix::Smpte240m;
            break;
        case 6:
            space.matrix = YuvMatrix::Bt2020;
            break;
        default:
            space.matrix = YuvMatrix::Bt601;
            break;
    }
    return space;
}

const std::uint8_t* bytesOf(std::span<const std::byte> plane) {
    return reinterpret_cast<const std::uint8_t*>(plane.data());
}

// One row with one U and one V per pixel: plain contiguous loops the compiler turns
// into SIMD (an AVX2 clone where the CPU has it). The arithmetic is yuvToRgb()'s, so
// the inspector and the picture agree to the bit.
[[gnu::target_clones("avx2", "default")]] void yuvRowToRgb32(const std::uint8_t* y,
                                                             const std::uint8_t* u,
                                                             const std::uint8_t* v,
                                                             std::uint32_t* out, int width,
                                                             YuvCoefficients c) {
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

// Per-row scratch: chroma (and packed luma) spread to one value per pixel.
struct RowBuffers {
    explicit RowBuffers(int width)
        : y(std::size_t(width)), u(std::size_t(width)), v(std::size_t(width)) {}
    std::vector<std::uint8_t> y, u, v;
};

void convertPlanar(const Format& format, const FramePlanes& planes, QImage& out,
                   const YuvCoefficients& c) {
    const bool nv12 = format.pixelFormat == PixelFormat::NV12;
    const std::uint8_t* yPlane = bytesOf(planes[0]);
    const std::uint8_t* uPlane = bytesOf(planes[1]);
    const std::uint8_t* vPlane = nv12 ? nullptr : bytesOf(planes[2]);
    const std::size_t yStride = format.planes[0].stride;
    const std::size_t uStride = format.planes[1].stride;
    const std::size_t vStride = nv12 ? 0 : format.planes[2].stride;
    const int width = int(format.width);
    const int height = int(format.height);
    const int pairs = width / 2;
    RowBuffers rows(width);
    for (int row = 0; row < height; ++row) {
        // Chroma rows serve two luma rows: spread them once per pair.
        if (row % 2 == 0) {
            const std::uint8_t* uRow = uPlane + std::size_t(row / 2) * uStride;
            if (nv12) {
                for (int i = 0; i < pairs; ++i) {
                    rows.u[2 * i] = rows.u[2 * i + 1] = uRow[2 * i];
                    rows.v[2 * i] = rows.v[2 * i + 1] = uRow[2 * i + 1];
                }
            } else {
                const std::uint8_t* vRow = vPlane + std::size_t(row / 2) * vStride;
                for (int i = 0; i < pairs; ++i) {
                    rows.u[2 * i] = rows.u[2 * i + 1] = uRow[i];
                    rows.v[2 * i] = rows.v[2 * i + 1] = vRow[i];
                }
            }
        }
        yuvRowToRgb32(yPlane + std::size_t(row) * yStride, rows.u.data(), rows.v.data(),
                      reinterpret_cast<std::uint32_t*>(out.scanLine(row)), pairs * 2, c);
    }
}

void convertPacked(const Format& format, const FramePlanes& planes, QImage& out,
                   const YuvCoefficients& c) {
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
    const int pairs = width / 2;
    RowBuffers rows(width);
    for (int row = 0; row < height; ++row) {
        const std::uint8_t* src = plane + std::size_t(row) * stride;
        for (int i = 0; i < pairs; ++i) {
            const std::uint8_t* quad = src + 4 * i;
            rows.y[2 * i] = quad[y0];
            rows.y[2 * i + 1] = quad[y1];
            rows.u[2 * i] = rows.u[2 * i + 1] = quad[uAt];
            rows.v[2 * i] = rows.v[2 * i + 1] = quad[vAt];
        }
        yuvRowToRgb32(rows.y.data(), rows.u.data(), rows.v.data(),
                      reinterpret_cast<std::uint32_t*>(out.scanLine(row)), pairs * 2, c);
    }
}

}  // namespace

YuvColorSpace colorSpaceFor(const Format& format) {
    if (auto parsed = parseColorimetry(colorimetryOf(format.caps)))
        return *parsed;
    if (format.height >= 2160)
        return {YuvMatrix::Bt2020, YuvRange::Limited};
    if (format.height > 576)
        return {YuvMatrix::Bt709, YuvRange::Limited};
    return {YuvMatrix::Bt601, YuvRange::Limited};
}

const char* describe(YuvColorSpace space) {
    const bool full = space.range == YuvRange::Full;
    switch (space.matrix) {
        case YuvMatrix::Bt601:
            return full ? "bt601 full" : "bt601 limited";
        case YuvMatrix::Bt709:
            return full ? "bt709 full" : "bt709 limited";
        case YuvMatrix::Bt2020:
            return full ? "bt2020 full" : "bt2020 limited";
        case YuvMatrix::Smpte240m:
            return full ? "smpte240m full" : "smpte240m limited";
        case YuvMatrix::Fcc:
            return full ? "fcc full" : "fcc limited";
    }
    return "unknown";
}

YuvCoefficients yuvCoefficients(YuvColorSpace space) {
    const RealCoefficients r = realCoefficients(space);
    return {static_cast<std::int32_t>(r.yOffset),
            toFixed(r.yScale),
            toFixed(r.rFromV),
            toFixed(r.gFromU),
            toFixed(r.gFromV),
            toFixed(r.bFromU)};
}

YuvFloatCoefficients yuvFloatCoefficients(YuvColorSpace space) {
    const RealCoefficients r = realCoefficients(space);
    return {float(r.yOffset / 255.0), float(r.yScale), float(r.rFromV),
            float(r.gFromU),          float(r.gFromV), float(r.bFromU)};
}

Yuv rgbToYuv(QRgb rgb, YuvColorSpace space) {
    const auto [kr, kb] = weightsOf(space.matrix);
    const double kg = 1.0 - kr - kb;
    const double r = qRed(rgb) / 255.0;
    const double g = qGreen(rgb) / 255.0;
    const double b = qBlue(rgb) / 255.0;
    const double luma = kr * r + kg * g + kb * b;
    const double pb = (b - luma) / (2.0 - 2.0 * kb);
    const double pr = (r - luma) / (2.0 - 2.0 * kr);
    const bool limited = space.range == YuvRange::Limited;
    const auto code = [](double value) {
        return static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
    };
    if (limited)
        return {code(16.0 + 219.0 * luma), code(128.0 + 224.0 * pb), code(128.0 + 224.0 * pr)};
    return {code(255.0 * luma), code(128.0 + 255.0 * pb), code(128.0 + 255.0 * pr)};
}

Result<void> convertYuvToRgb32(const Format& format, const FramePlanes& planes, QImage& out) {
    if (!isYuv(format.pixelFormat))
        return Error::make(Errc::Unsupported, "the CPU YUV converter does not take " +
                                                  std::string(toString(format.pixelFormat)));
    if (auto checked = checkPlanes(format, planes); !checked)
        return checked;
    const QSize size(int(format.width), int(format.height));
    if (out.size() != size || out.format() != QImage::Format_RGB32) {
        out = QImage(size, QImage::Format_RGB32);
        if (out.isNull())
            return Error::make(Errc::SystemError, "out of memory for a " +
                                                      std::to_string(format.width) + "x" +
                                                      std::to_string(format.height) + " image");
    }
    const YuvCoefficients c = yuvCoefficients(colorSpaceFor(format));
    if (format.pixelFormat == PixelFormat::NV12 || format.pixelFormat == PixelFormat::I420)
        convertPlanar(format, planes, out, c);
    else
        convertPacked(format, planes, out, c);
    return {};
}

}  // namespace shmframe::viewer
