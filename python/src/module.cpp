// SPDX-License-Identifier: LGPL-2.1-or-later
// The _shmframe extension module: libshmframe for Python. The package `shmframe`
// (python/shmframe/__init__.py) wraps it; users import that, not this.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "shmframe/version.h"

namespace py = pybind11;

PYBIND11_MODULE(_shmframe, module) {
    module.doc() = "libshmframe for Python; import shmframe instead.";
    module.attr("__version__") = SHMFRAME_VERSION_STRING;
    shmframe::python::bindFormat(module);
    shmframe::python::bindReader(module);
    shmframe::python::bindWriter(module);
    shmframe::python::bindFeeds(module);
}
