// SPDX-License-Identifier: LGPL-2.1-or-later
// numpy arrays over the planes of a frame, where the frame lies (no copy). The shape
// and strides come from the Format: H×W×C for packed RGB formats, H×W for GRAY and
// each planar YUV plane, H×(W/2)×2 for NV12's UV plane, H×W×2 for YUY2/UYVY.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "shmframe/format.h"

namespace shmframe::python {

enum class Access { ReadOnly, Writable };

/// A Python object that keeps \a owner alive for as long as it lives: the base
/// object of every array over a frame, so the frame's lease (or loan) lasts as long
/// as any array that shows its pixels.
pybind11::object keepAlive(std::shared_ptr<void> owner);

/**
 * An array over plane \a index of a frame in \a format whose bytes are \a plane.
 * \a base becomes the array's base object. Raises BadPool if the plane is smaller
 * than its format says.
 */
pybind11::array planeArray(const Format& format, std::uint32_t index,
                           std::span<const std::byte> plane, pybind11::object base, Access access);

/// A 1-D uint8 array over \a bytes (a whole frame, or a user metadata area).
pybind11::array byteArray(std::span<const std::byte> bytes, pybind11::object base, Access access);

}  // namespace shmframe::python
