// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframe.Format and shmframe.Plane. Pixel formats are their GStreamer names as
// str; numeric fields are bound one line each, so a new field of Format is one more
// line here (and in _shmframe.pyi).
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "errors.h"

namespace py = pybind11;

namespace shmframe::python {

PixelFormat pixelFormatFrom(const std::string& name) {
    const auto format = pixelFormatFromString(name);
    if (!format || *format == PixelFormat::Unknown) {
        std::string known;
        for (PixelFormat each : allPixelFormats()) {
            known += (known.empty() ? "" : " ") + std::string(toString(each));
        }
        raise(Error::make(Errc::InvalidArgument,
                          "unknown pixel format '" + name + "' (known: " + known + ")"));
    }
    return *format;
}

Fraction frameRateFrom(const py::object& value) {
    if (value.is_none()) {
        return {};
    }
    py::object fraction = value;
    if (py::isinstance<py::tuple>(value)) {
        const auto pair = value.cast<std::pair<std::int64_t, std::int64_t>>();
        fraction = py::module_::import("fractions").attr("Fraction")(pair.first, pair.second);
    } else if (!py::hasattr(value, "numerator")) {  // a float
        fraction = py::module_::import("fractions")
                       .attr("Fraction")(value)
                       .attr("limit_denominator")(1001);
    }
    const auto num = fraction.attr("numerator").cast<std::int64_t>();
    const auto den = fraction.attr("denominator").cast<std::int64_t>();
    if (num < 0 || num > std::numeric_limits<std::int32_t>::max() || den <= 0 ||
        den > std::numeric_limits<std::int32_t>::max()) {
        raise(Error::make(Errc::InvalidArgument,
                          "frame rate " + py::str(value).cast<std::string>() + " is out of range"));
    }
    return {std::int32_t(num), std::int32_t(den)};
}

void bindFormat(py::module_& module) {
    py::class_<Plane>(module, "Plane", "Where one plane lies in a frame: offset, stride, size.")
        .def(py::init([](std::uint64_t offset, std::uint32_t stride, std::uint64_t size) {
                 return Plane{offset, stride, size};
             }),
             py::arg("offset"), py::arg("stride"), py::arg("size"))
        .def_readonly("offset", &Plane::offset, "Bytes from the start of the frame.")
        .def_readonly("stride", &Plane::stride, "Bytes from one row to the next.")
        .def_readonly("size", &Plane::size, "Bytes of the plane, padding included.")
        .def(py::self == py::self)
        .def("__repr__", [](const Plane& plane) {
            return "Plane(offset=" + std::to_string(plane.offset) +
                   ", stride=" + std::to_string(plane.stride) +
                   ", size=" + std::to_string(plane.size) + ")";
        });

    py::class_<Format> format(module, "Format", R"doc(
The layout of every frame of a feed: pixel format, size, planes, frame rate.

    Format("BGR", 1280, 720, fps=30)          # the default layout (rows padded to 64)
    Format("NV12", 1920, 1080, stride_align=1)  # tightly packed rows
    Format.with_layout("GRAY8", 640, 480, [Plane(0, 768, 768 * 480)], 768 * 480)
)doc");
    format
        .def(py::init([](const std::string& pixelFormat, std::uint32_t width, std::uint32_t height,
                         const py::object& fps, std::uint32_t strideAlign,
                         const std::optional<std::string>& colorimetry) {
                 Format made = valueOrRaise(Format::make(pixelFormatFrom(pixelFormat), width,
                                                         height, frameRateFrom(fps), strideAlign));
                 if (colorimetry) {
                     made.colorimetry = valueOrRaise(Colorimetry::parse(*colorimetry));
                 }
                 return made;
             }),
             py::arg("pixel_format"), py::arg("width"), py::arg("height"),
             py::arg("fps") = py::none(), py::arg("stride_align") = 64,
             py::arg("colorimetry") = py::none(),
             "A format with the default layout: rows padded to stride_align bytes (a power "
             "of two), planes one after the other. colorimetry is what `shmframe publish "
             "--colorimetry` takes ('bt709', 'bt601:full', 'RANGE:MATRIX:TRANSFER:PRIMARIES'); "
             "None means GStreamer's default for the format and size. Raises InvalidArgument "
             "for sizes out of range, odd sizes of subsampled formats or a bad colorimetry.")
        .def_static(
            "with_layout",
            [](const std::string& pixelFormat, std::uint32_t width, std::uint32_t height,
               const std::vector<Plane>& planes, std::uint64_t frameSize, const py::object& fps) {
                return valueOrRaise(Format::withLayout(pixelFormatFrom(pixelFormat), width, height,
                                                       frameRateFrom(fps), planes, frameSize));
            },
            py::arg("pixel_format"), py::arg("width"), py::arg("height"), py::arg("planes"),
            py::arg("frame_size"), py::arg("fps") = py::none(),
            "A format with an explicit layout (offsets and strides), checked like one read "
            "from shared memory.")
        .def_property_readonly(
            "pixel_format",
            [](const Format& self) { return std::string(toString(self.pixelFormat)); },
            "GStreamer name of the pixel format: 'RGBA', 'BGR', 'NV12', ...")
        // Plain fields, one line each.
        .def_readonly("width", &Format::width)
        .def_readonly("height", &Format::height)
        .def_readonly("plane_count", &Format::planeCount)
        .def_readonly("frame_size", &Format::frameSize,
                      "Bytes from the first byte of plane 0 to the end of the frame.")
        .def_readonly("caps", &Format::caps, "GStreamer caps string, verbatim (may be empty).")
        // Fields that need a Python shape.
        .def_property_readonly(
            "frame_rate",
            [](const Format& self) { return std::pair(self.frameRate.num, self.frameRate.den); },
            "(numerator, denominator); (0, 1) for variable or unknown.")
        .def_property_readonly(
            "fps", [](const Format& self) { return self.frameRate.toDouble(); },
            "Frame rate as a float; 0.0 for variable or unknown.")
        .def_property_readonly(
            "planes",
            [](const Format& self) {
                return std::vector<Plane>(self.planes.begin(),
                                          self.planes.begin() + self.planeCount);
            },
            "One Plane per plane of the format.")
        .def_property_readonly(
            "colorimetry",
            [](const Format& self) {
                const Colorimetry colour = self.colorimetry.resolved(self.pixelFormat, self.height);
                py::dict names;
                names["matrix"] = std::string(toString(colour.matrix));
                names["range"] = std::string(toString(colour.range));
                names["transfer"] = std::string(toString(colour.transfer));
                names["primaries"] = std::string(toString(colour.primaries));
                return names;
            },
            "The colours the samples mean, as names: {'matrix': 'bt709', 'range': 'limited', "
            "'transfer': ..., 'primaries': ...}; a writer's unset fields resolved to "
            "GStreamer's default for the format and size.")
        .def_property_readonly("is_yuv", [](const Format& self) { return isYuv(self.pixelFormat); })
        .def("row_bytes", &Format::rowBytes, py::arg("plane"),
             "Bytes of one row of pixels of a plane, without padding.")
        .def("plane_rows", &Format::planeRows, py::arg("plane"), "Rows of a plane.")
        .def("describe", &Format::describe, "'RGBA 1280x720 @ 30/1'")
        .def(py::self == py::self)
        .def("__repr__",
             [](const Format& self) { return "<shmframe.Format " + self.describe() + ">"; });

    module.def(
        "pixel_formats",
        [] {
            std::vector<std::string> names;
            for (PixelFormat each : allPixelFormats()) {
                if (each != PixelFormat::Unknown) {
                    names.emplace_back(toString(each));
                }
            }
            return names;
        },
        "The GStreamer names of every pixel format a feed can carry.");
}

}  // namespace shmframe::python
