// SPDX-License-Identifier: LGPL-2.1-or-later
// Library errors become Python exceptions: shmframe.Error and one subclass per
// shmframe::Errc (shmframe/errors.py defines them; this raises them).
#pragma once

#include <utility>

#include <pybind11/pybind11.h>

#include "shmframe/error.h"

namespace shmframe::python {

/// Raises the shmframe.Error subclass for \a error's code (never returns).
[[noreturn]] void raise(const Error& error);

/// The value of \a result, or raises its error.
template <typename T>
T valueOrRaise(Result<T>&& result) {
    if (!result) {
        raise(result.error());
    }
    return std::move(result).value();
}

inline void checkOrRaise(const Result<void>& result) {
    if (!result) {
        raise(result.error());
    }
}

}  // namespace shmframe::python
