// SPDX-License-Identifier: LGPL-2.1-or-later
#include "yuv_convert.h"

#include <string>

namespace shmframe::viewer {

Colorimetry colorimetryOf(const Format& format) {
    return format.colorimetry.resolved(format.pixelFormat, format.height);
}

QRgb yuvToQRgb(int y, int u, int v, const Colorimetry& colorimetry) {
    const auto rgb =
        shmframe::yuvToRgb(std::uint8_t(y), std::uint8_t(u), std::uint8_t(v), colorimetry);
    return qRgb(rgb[0], rgb[1], rgb[2]);
}

Yuv rgbToYuv(QRgb rgb, const Colorimetry& colorimetry) {
    const auto yuv = shmframe::rgbToYuv(std::uint8_t(qRed(rgb)), std::uint8_t(qGreen(rgb)),
                                        std::uint8_t(qBlue(rgb)), colorimetry);
    return {yuv[0], yuv[1], yuv[2]};
}

YuvFloatCoefficients yuvFloatCoefficients(const Colorimetry& colorimetry) {
    const YuvToRgbFactors f = yuvToRgbFactors(colorimetry);
    return {float(f.yOffset / 255.0), float(f.yScale), float(f.rFromV),
            float(f.gFromU),          float(f.gFromV), float(f.bFromU)};
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
    // Format_RGB32 is 0xffRRGGBB per pixel: B G R A in memory on little-endian machines.
    static_assert(Q_BYTE_ORDER == Q_LITTLE_ENDIAN, "RgbOrder::Bgra is Format_RGB32 here");
    return convertToRgb(format, planes, RgbOrder::Bgra, reinterpret_cast<std::byte*>(out.bits()),
                        std::size_t(out.bytesPerLine()));
}

}  // namespace shmframe::viewer
