// SPDX-License-Identifier: LGPL-2.1-or-later
#include "plane_arrays.h"

#include <string>
#include <vector>

#include "errors.h"

namespace py = pybind11;

namespace shmframe::python {
namespace {

// How one plane's bytes read as numpy elements.
struct ElementLayout {
    std::uint32_t channels = 1;     // values per pixel in this plane (1: no channel axis)
    std::uint32_t elementSize = 1;  // bytes per value
};

ElementLayout elementLayout(PixelFormat format, std::uint32_t plane) {
    switch (format) {
        case PixelFormat::RGBA:
        case PixelFormat::BGRA:
        case PixelFormat::RGBx:
        case PixelFormat::BGRx:
            return {4, 1};
        case PixelFormat::RGB:
        case PixelFormat::BGR:
            return {3, 1};
        case PixelFormat::GRAY8:
        case PixelFormat::I420:
            return {1, 1};
        case PixelFormat::GRAY16_LE:
            return {1, 2};
        case PixelFormat::NV12:
            return {plane == 0 ? 1u : 2u, 1};
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            return {2, 1};
        case PixelFormat::Unknown:
            break;
    }
    raise(Error::make(Errc::Unsupported,
                      "no array layout for pixel format " + std::string(toString(format))));
}

py::array finish(py::array array, Access access) {
    if (access == Access::ReadOnly) {
        // What pybind11 does for const Eigen maps: clear NPY_ARRAY_WRITEABLE.
        py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    }
    return array;
}

}  // namespace

py::object keepAlive(std::shared_ptr<void> owner) {
    auto* heldOwner = new std::shared_ptr<void>(std::move(owner));
    return py::capsule(heldOwner,
                       [](void* pointer) { delete static_cast<std::shared_ptr<void>*>(pointer); });
}

py::array planeArray(const Format& format, std::uint32_t index, std::span<const std::byte> plane,
                     py::object base, Access access) {
    if (index >= format.planeCount) {
        throw py::index_error("plane " + std::to_string(index) + " of a " +
                              std::string(toString(format.pixelFormat)) + " frame (it has " +
                              std::to_string(format.planeCount) + ")");
    }
    const ElementLayout element = elementLayout(format.pixelFormat, index);
    const std::uint64_t rows = format.planeRows(index);
    const std::uint64_t rowBytes = format.rowBytes(index);
    const std::uint64_t stride = format.planes[index].stride;
    const std::uint64_t pixelBytes = std::uint64_t{element.channels} * element.elementSize;
    if (rows == 0 || rowBytes == 0 || rowBytes % pixelBytes != 0 || stride < rowBytes ||
        plane.size() < (rows - 1) * stride + rowBytes) {
        raise(Error::make(Errc::BadPool, "plane " + std::to_string(index) + " of " +
                                             format.describe() + " does not fit its " +
                                             std::to_string(plane.size()) + " bytes"));
    }
    std::vector<py::ssize_t> shape{py::ssize_t(rows), py::ssize_t(rowBytes / pixelBytes)};
    std::vector<py::ssize_t> strides{py::ssize_t(stride), py::ssize_t(pixelBytes)};
    if (element.channels > 1) {
        shape.push_back(element.channels);
        strides.push_back(element.elementSize);
    }
    const py::dtype dtype = element.elementSize == 2 ? py::dtype("<u2") : py::dtype("u1");
    // The pointer is const only for the reader; ReadOnly arrays stay read-only below.
    void* data = const_cast<std::byte*>(plane.data());
    return finish(py::array(dtype, shape, strides, data, base), access);
}

py::array byteArray(std::span<const std::byte> bytes, py::object base, Access access) {
    void* data = const_cast<std::byte*>(bytes.data());
    return finish(
        py::array(py::dtype("u1"), {py::ssize_t(bytes.size())}, {py::ssize_t(1)}, data, base),
        access);
}

}  // namespace shmframe::python
