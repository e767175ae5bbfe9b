// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pixel_probe.h"

#include "yuv_convert.h"

namespace shmframe::viewer {

namespace {

std::uint8_t byteAt(std::span<const std::byte> plane, std::size_t offset) {
    return std::to_integer<std::uint8_t>(plane[offset]);
}

QString yuvText(int y, int u, int v) {
    return QStringLiteral("Y=%1 U=%2 V=%3").arg(y).arg(u).arg(v);
}

}  // namespace

QString PixelProbe::describe(PixelFormat format) const {
    return QStringLiteral("x %1 y %2   %3 %4   RGB %5 %6 %7 #%8")
        .arg(x)
        .arg(y)
        .arg(QString::fromLatin1(toString(format).data(), qsizetype(toString(format).size())))
        .arg(native)
        .arg(qRed(rgb))
        .arg(qGreen(rgb))
        .arg(qBlue(rgb))
        .arg(rgb & 0xffffffu, 6, 16, QLatin1Char('0'));
}

std::optional<PixelProbe> probePixel(const Format& format, const FramePlanes& planes, int x,
                                     int y) {
    if (x < 0 || y < 0 || std::uint32_t(x) >= format.width || std::uint32_t(y) >= format.height)
        return std::nullopt;
    if (!checkPlanes(format, planes))
        return std::nullopt;
    PixelProbe probe;
    probe.x = x;
    probe.y = y;
    const std::size_t stride0 = format.planes[0].stride;
    const std::size_t row0 = std::size_t(y) * stride0;
    const auto& p0 = planes[0];
    const auto channels = [&](std::size_t bytesPerPixel) {
        return row0 + std::size_t(x) * bytesPerPixel;
    };
    switch (format.pixelFormat) {
        case PixelFormat::RGBA:
        case PixelFormat::RGBx: {
            const std::size_t at = channels(4);
            const int r = byteAt(p0, at), g = byteAt(p0, at + 1), b = byteAt(p0, at + 2),
                      a = byteAt(p0, at + 3);
            const bool alpha = format.pixelFormat == PixelFormat::RGBA;
            probe.native = alpha
                               ? QStringLiteral("R=%1 G=%2 B=%3 A=%4").arg(r).arg(g).arg(b).arg(a)
                               : QStringLiteral("R=%1 G=%2 B=%3 x=%4").arg(r).arg(g).arg(b).arg(a);
            probe.rgb = qRgba(r, g, b, alpha ? a : 255);
            break;
        }
        case PixelFormat::BGRA:
        case PixelFormat::BGRx: {
            const std::size_t at = channels(4);
            const int b = byteAt(p0, at), g = byteAt(p0, at + 1), r = byteAt(p0, at + 2),
                      a = byteAt(p0, at + 3);
            const bool alpha = format.pixelFormat == PixelFormat::BGRA;
            probe.native = alpha
                               ? QStringLiteral("B=%1 G=%2 R=%3 A=%4").arg(b).arg(g).arg(r).arg(a)
                               : QStringLiteral("B=%1 G=%2 R=%3 x=%4").arg(b).arg(g).arg(r).arg(a);
            probe.rgb = qRgba(r, g, b, alpha ? a : 255);
            break;
        }
        case PixelFormat::RGB:
        case PixelFormat::BGR: {
            const std::size_t at = channels(3);
            const int c0 = byteAt(p0, at), c1 = byteAt(p0, at + 1), c2 = byteAt(p0, at + 2);
            const bool rgbOrder = format.pixelFormat == PixelFormat::RGB;
            probe.native = rgbOrder ? QStringLiteral("R=%1 G=%2 B=%3").arg(c0).arg(c1).arg(c2)
                                    : QStringLiteral("B=%1 G=%2 R=%3").arg(c0).arg(c1).arg(c2);
            probe.rgb = rgbOrder ? qRgb(c0, c1, c2) : qRgb(c2, c1, c0);
            break;
        }
        case PixelFormat::GRAY8: {
            const int v = byteAt(p0, channels(1));
            probe.native = QStringLiteral("gray=%1").arg(v);
            probe.rgb = qRgb(v, v, v);
            break;
        }
        case PixelFormat::GRAY16_LE: {
            const std::size_t at = channels(2);
            const int v = byteAt(p0, at) | (byteAt(p0, at + 1) << 8);
            probe.native = QStringLiteral("gray=%1 (0x%2)").arg(v).arg(v, 4, 16, QLatin1Char('0'));
            // 16 bits to 8 as Qt's Grayscale16 painting rounds it.
            const int shown = (v - (v >> 8) + 0x80) >> 8;
            probe.rgb = qRgb(shown, shown, shown);
            break;
        }
        case PixelFormat::NV12:
        case PixelFormat::I420: {
            const int luma = byteAt(p0, channels(1));
            const std::size_t chromaRow = std::size_t(y / 2);
            int u = 0;
            int v = 0;
            if (format.pixelFormat == PixelFormat::NV12) {
                const std::size_t at = chromaRow * format.planes[1].stride + std::size_t(x / 2) * 2;
                u = byteAt(planes[1], at);
                v = byteAt(planes[1], at + 1);
            } else {
                u = byteAt(planes[1], chromaRow * format.planes[1].stride + std::size_t(x / 2));
                v = byteAt(planes[2], chromaRow * format.planes[2].stride + std::size_t(x / 2));
            }
            probe.native = yuvText(luma, u, v);
            probe.rgb = yuvToQRgb(luma, u, v, colorimetryOf(format));
            break;
        }
        case PixelFormat::YUY2:
        case PixelFormat::UYVY: {
            const std::size_t pair = row0 + std::size_t(x / 2) * 4;
            const bool yuy2 = format.pixelFormat == PixelFormat::YUY2;
            const bool odd = (x % 2) != 0;
            const int luma = byteAt(p0, pair + (yuy2 ? (odd ? 2 : 0) : (odd ? 3 : 1)));
            const int u = byteAt(p0, pair + (yuy2 ? 1 : 0));
            const int v = byteAt(p0, pair + (yuy2 ? 3 : 2));
            probe.native = yuvText(luma, u, v);
            probe.rgb = yuvToQRgb(luma, u, v, colorimetryOf(format));
            break;
        }
        default:
            return std::nullopt;
    }
    return probe;
}

}  // namespace shmframe::viewer
