// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_image.h"

#include <bit>

#include <shmframe/reader.h>

#include "yuv_convert.h"

namespace shmframe::viewer {

namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;

void releaseFrameRef(void* info) {
    // Called by Qt when the last QImage over the slot goes, from whatever thread
    // drops it; Frames may be released from any thread.
    delete static_cast<FrameRef*>(info);
}

Result<QImage> wrapPlane(const Format& format, std::span<const std::byte> plane,
                         QImage::Format qtFormat, QImageCleanupFunction cleanup, void* info) {
    // QImage's const-data constructor never writes to the buffer: the mapping is
    // read-only, and any mutation makes Qt detach into its own copy first.
    QImage image(reinterpret_cast<const uchar*>(plane.data()), int(format.width),
                 int(format.height), qsizetype(format.planes[0].stride), qtFormat, cleanup, info);
    if (image.isNull()) {
        // Qt refused (it only does so for sizes it cannot address); it did not take
        // ownership of info in that case.
        return Error::make(Errc::Unsupported, "Qt cannot show a " + format.describe() + " frame");
    }
    return image;
}

}  // namespace

QImage::Format qtFormatFor(PixelFormat format) {
    switch (format) {
        case PixelFormat::RGBA:
            return QImage::Format_RGBA8888;
        case PixelFormat::RGBx:
            return QImage::Format_RGBX8888;
        case PixelFormat::BGRA:
            // Qt's 32-bit formats are native-endian words 0xAARRGGBB: B G R A bytes
            // in memory on little-endian hosts only.
            return kLittleEndian ? QImage::Format_ARGB32 : QImage::Format_Invalid;
        case PixelFormat::BGRx:
            return kLittleEndian ? QImage::Format_RGB32 : QImage::Format_Invalid;
        case PixelFormat::RGB:
            return QImage::Format_RGB888;
        case PixelFormat::BGR:
            return QImage::Format_BGR888;
        case PixelFormat::GRAY8:
            return QImage::Format_Grayscale8;
        case PixelFormat::GRAY16_LE:
            return kLittleEndian ? QImage::Format_Grayscale16 : QImage::Format_Invalid;
        default:
            return QImage::Format_Invalid;
    }
}

Result<QImage> wrapFrame(const FrameRef& frame) {
    if (!frame || !frame->valid())
        return Error::make(Errc::InvalidArgument, "no frame to show");
    const Format& format = frame->format();
    const QImage::Format qtFormat = qtFormatFor(format.pixelFormat);
    if (qtFormat == QImage::Format_Invalid)
        return Error::make(Errc::Unsupported,
                           std::string(toString(format.pixelFormat)) + " has no zero-copy QImage");
    const FramePlanes planes = planesOf(*frame);
    if (auto checked = checkPlanes(format, planes); !checked)
        return checked.error();
    auto* holder = new FrameRef(frame);
    auto image = wrapPlane(format, planes[0], qtFormat, releaseFrameRef, holder);
    if (!image)
        delete holder;
    return image;
}

Result<QImage> frameToImage(const Format& format, const FramePlanes& planes) {
    if (auto checked = checkPlanes(format, planes); !checked)
        return checked.error();
    if (isYuv(format.pixelFormat)) {
        QImage image;
        if (auto converted = convertYuvToRgb32(format, planes, image); !converted)
            return converted.error();
        return image;
    }
    const QImage::Format qtFormat = qtFormatFor(format.pixelFormat);
    if (qtFormat == QImage::Format_Invalid)
        return Error::make(Errc::Unsupported, "cannot convert " +
                                                  std::string(toString(format.pixelFormat)) +
                                                  " to an image on this host");
    auto view = wrapPlane(format, planes[0], qtFormat, nullptr, nullptr);
    if (!view)
        return view.error();
    QImage copy = view->copy();
    if (copy.isNull())
        return Error::make(Errc::SystemError,
                           "out of memory copying a " + format.describe() + " frame");
    return copy;
}

}  // namespace shmframe::viewer
