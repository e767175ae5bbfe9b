// SPDX-License-Identifier: LGPL-2.1-or-later
#include "frame_planes.h"

#include <limits>
#include <string>

#include <shmframe/reader.h>

namespace shmframe::viewer {

FramePlanes planesOf(const Frame& frame) {
    FramePlanes planes{};
    if (!frame.valid())
        return planes;
    const std::uint32_t count = std::min(frame.format().planeCount, Format::kMaxPlanes);
    for (std::uint32_t i = 0; i < count; ++i)
        planes[i] = frame.plane(i);
    return planes;
}

Result<void> checkPlanes(const Format& format, const FramePlanes& planes) {
    if (format.width == 0 || format.height == 0 || format.width > Format::kMaxDimension ||
        format.height > Format::kMaxDimension)
        return Error::make(Errc::BadPool, "frame size " + std::to_string(format.width) + "x" +
                                              std::to_string(format.height) + " is out of range");
    const std::uint32_t expected = shmframe::planeCount(format.pixelFormat);
    if (expected == 0 || format.planeCount != expected)
        return Error::make(Errc::BadPool, "format " + std::string(toString(format.pixelFormat)) +
                                              " has " + std::to_string(format.planeCount) +
                                              " planes, expected " + std::to_string(expected));
    for (std::uint32_t i = 0; i < expected; ++i) {
        const std::uint64_t stride = format.planes[i].stride;
        const std::uint64_t rowBytes = format.rowBytes(i);
        const std::uint64_t rows = format.planeRows(i);
        if (stride < rowBytes || rows == 0 ||
            stride > std::uint64_t(std::numeric_limits<int>::max()))
            return Error::make(Errc::BadPool,
                               "plane " + std::to_string(i) + " stride " + std::to_string(stride) +
                                   " does not fit rows of " + std::to_string(rowBytes) + " bytes");
        const std::uint64_t needed = stride * (rows - 1) + rowBytes;
        if (planes[i].size() < needed)
            return Error::make(Errc::BadPool, "plane " + std::to_string(i) + " holds " +
                                                  std::to_string(planes[i].size()) +
                                                  " bytes, its rows need " +
                                                  std::to_string(needed));
    }
    return {};
}

}  // namespace shmframe::viewer
