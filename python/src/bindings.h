// SPDX-License-Identifier: LGPL-2.1-or-later
// One function per binding file; module.cpp calls them in dependency order.
#pragma once

#include <pybind11/pybind11.h>

#include "shmframe/format.h"

namespace shmframe::python {

void bindFormat(pybind11::module_& module);
void bindReader(pybind11::module_& module);
void bindWriter(pybind11::module_& module);
void bindFeeds(pybind11::module_& module);

/// A frame rate from Python: None, a number (int, float, fractions.Fraction) or a
/// (num, den) tuple.
Fraction frameRateFrom(const pybind11::object& value);

/// A pixel format from its GStreamer name ("BGR", "nv12"); raises InvalidArgument.
PixelFormat pixelFormatFrom(const std::string& name);

}  // namespace shmframe::python
