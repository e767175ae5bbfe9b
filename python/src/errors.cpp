// SPDX-License-Identifier: LGPL-2.1-or-later
#include "errors.h"

#include <string>

namespace py = pybind11;

namespace shmframe::python {

void raise(const Error& error) {
    // shmframe.errors maps the stable code name ("no-writer") to its class; imported
    // on first use, as it imports this module's package.
    py::object fromCode = py::module_::import("shmframe.errors").attr("_from_code");
    py::object exception =
        fromCode(std::string(toString(error.code)), error.message, error.sysErrno);
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
    throw py::error_already_set();
}

}  // namespace shmframe::python
