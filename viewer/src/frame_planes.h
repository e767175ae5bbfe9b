// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file frame_planes.h
 * \brief The planes of one frame as byte spans, checked against its Format.
 *
 * The library validated the layout already; the viewer checks again before it
 * walks rows, because a wrong assumption here would read past a mapping.
 */
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include <shmframe/error.h>
#include <shmframe/format.h>

namespace shmframe {
class Frame;
}

namespace shmframe::viewer {

using FramePlanes = std::array<std::span<const std::byte>, Format::kMaxPlanes>;

/// \brief The plane spans of a frame (empty spans past its plane count).
FramePlanes planesOf(const Frame& frame);

/**
 * \brief BadPool unless each plane the format names is present and holds all its
 * rows (stride * (rows - 1) + row bytes), and sizes fit the viewer's int arithmetic.
 */
Result<void> checkPlanes(const Format& format, const FramePlanes& planes);

}  // namespace shmframe::viewer
