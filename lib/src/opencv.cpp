// SPDX-License-Identifier: LGPL-2.1-or-later
// cv::Mat views of frames. Every view is built from the plane spans the library
// hands out and checked against them, so a view never reaches past its plane.

#include "shmframe/opencv.h"
#include "shmframe/color_convert.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace shmframe {
namespace {

// The planes of one frame as the library hands them out (const for both sides:
// the writable variants cast back, since the LoanedFrame's memory is writable).
using PlaneSpans = std::array<std::span<const std::byte>, Format::kMaxPlanes>;

struct PlaneShape {
    int type = -1;
    int cols = 0;
    int rows = 0;
};

// Chroma planes of odd-sized frames round up, as GStreamer lays them out.
int halfUp(int value) {
    return (value + 1) / 2;
}

std::string formatName(PixelFormat format) {
    return std::string(toString(format));
}

Error unsupported(PixelFormat format, std::string_view what) {
    return Error::make(Errc::Unsupported,
                       formatName(format) + " frames have no " + std::string(what));
}

// The natural OpenCV shape of plane `plane` of `format`.
Result<PlaneShape> planeShape(const Format& format, std::uint32_t plane) {
    if (plane >= format.planeCount) {
        return Error::make(Errc::InvalidArgument,
                           "plane " + std::to_string(plane) +
                               " does not exist: " + formatName(format.pixelFormat) + " has " +
                               std::to_string(format.planeCount) + " plane(s)");
    }
    const int width = static_cast<int>(format.width);
    const int height = static_cast<int>(format.height);
    switch (format.pixelFormat) {
        case PixelFormat::NV12:
            if (plane == 0) {
                return PlaneShape{CV_8UC1, width, height};
            }
            return PlaneShape{CV_8UC2, halfUp(width), halfUp(height)};
        case PixelFormat::I420:
            if (plane == 0) {
                return PlaneShape{CV_8UC1, width, height};
            }
            return PlaneShape{CV_8UC1, halfUp(width), halfUp(height)};
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            // An odd last pixel still takes a whole Y-U-Y-V group.
            return PlaneShape{CV_8UC2, 2 * halfUp(width), height};
        default: {
            auto type = matType(format.pixelFormat);
            if (!type) {
                return std::move(type).error();
            }
            return PlaneShape{*type, width, height};
        }
    }
}

// A Mat of `shape` over `bytes` with `stride` as its step, after checking that
// every row lies inside the span.
Result<cv::Mat> wrap(const PlaneShape& shape, std::span<const std::byte> bytes,
                     std::uint32_t stride, std::uint32_t plane) {
    const std::size_t rowBytes = static_cast<std::size_t>(shape.cols) * CV_ELEM_SIZE(shape.type);
    const std::size_t elemSize1 = CV_ELEM_SIZE1(shape.type);
    if (shape.rows <= 0 || shape.cols <= 0) {
        return Error::make(Errc::BadPool, "plane " + std::to_string(plane) + " is empty");
    }
    if (stride < rowBytes || stride % elemSize1 != 0) {
        return Error::make(Errc::Unsupported, "plane " + std::to_string(plane) + " stride " +
                                                  std::to_string(stride) +
                                                  " cannot be a Mat step for rows of " +
                                                  std::to_string(rowBytes) + " bytes");
    }
    const std::size_t needed = static_cast<std::size_t>(stride) * (shape.rows - 1) + rowBytes;
    if (bytes.data() == nullptr || bytes.size() < needed) {
        return Error::make(Errc::BadPool, "plane " + std::to_string(plane) + " holds " +
                                              std::to_string(bytes.size()) + " bytes, " +
                                              std::to_string(needed) + " needed");
    }
    // cv::Mat has no const form; callers of the const overloads are told not to write.
    auto* data = const_cast<std::byte*>(bytes.data());
    return cv::Mat(shape.rows, shape.cols, shape.type, data, stride);
}

Result<cv::Mat> viewPlane(const Format& format, const PlaneSpans& planes, std::uint32_t plane) {
    auto shape = planeShape(format, plane);
    if (!shape) {
        return std::move(shape).error();
    }
    return wrap(*shape, planes[plane], format.planes[plane].stride, plane);
}

Result<cv::Mat> viewWhole(const Format& format, const PlaneSpans& planes) {
    if (isYuv(format.pixelFormat)) {
        return unsupported(format.pixelFormat,
                           "single-Mat form: view a plane with planeView()/lumaView() or "
                           "convert with toBgr()");
    }
    return viewPlane(format, planes, 0);
}

Result<cv::Mat> viewLuma(const Format& format, const PlaneSpans& planes) {
    switch (format.pixelFormat) {
        case PixelFormat::GRAY8:
        case PixelFormat::NV12:
        case PixelFormat::I420:
            return viewPlane(format, planes, 0);
        case PixelFormat::YUY2:
        case PixelFormat::UYVY:
            return unsupported(format.pixelFormat,
                               "separate luma plane (luma is interleaved with chroma): use "
                               "planeView() for the CV_8UC2 plane or toBgr()");
        default:
            return unsupported(format.pixelFormat, "8-bit luma plane: use matView()");
    }
}

template <typename FrameType>
PlaneSpans spansOf(const FrameType& frame) {
    PlaneSpans spans{};
    for (std::uint32_t i = 0; i < frame.format().planeCount && i < Format::kMaxPlanes; ++i) {
        auto plane = frame.plane(i);
        spans[i] = {plane.data(), plane.size()};
    }
    return spans;
}

Result<PlaneSpans> spansOf(const Format& format, std::span<const std::byte> frameBytes) {
    if (auto valid = format.validate(); !valid) {
        return std::move(valid).error();
    }
    PlaneSpans spans{};
    for (std::uint32_t i = 0; i < format.planeCount; ++i) {
        const Plane& plane = format.planes[i];
        if (plane.offset > frameBytes.size() || plane.size > frameBytes.size() - plane.offset) {
            return Error::make(Errc::InvalidArgument,
                               "frame buffer of " + std::to_string(frameBytes.size()) +
                                   " bytes is too small for plane " + std::to_string(i) + " of " +
                                   format.describe());
        }
        spans[i] = frameBytes.subspan(plane.offset, plane.size);
    }
    return spans;
}

// Drops the column and row an odd-sized frame was padded with for OpenCV.
cv::Mat cropTo(const cv::Mat& image, const Format& format) {
    const cv::Size size(static_cast<int>(format.width), static_cast<int>(format.height));
    if (image.size() == size) {
        return image;
    }
    return image(cv::Rect(cv::Point(0, 0), size)).clone();
}

Result<cv::Mat> convertToBgr(const Format& format, const PlaneSpans& planes) {
    try {
        cv::Mat bgr;
        switch (format.pixelFormat) {
            case PixelFormat::NV12:
            case PixelFormat::I420:
            case PixelFormat::YUY2:
            case PixelFormat::UYVY: {
                // The project's one YUV conversion, with the format's matrix and range
                // (cvtColor knows BT.601 limited range only).
                bgr.create(static_cast<int>(format.height), static_cast<int>(format.width),
                           CV_8UC3);
                auto converted = convertToRgb(format, planes, RgbOrder::Bgr,
                                              reinterpret_cast<std::byte*>(bgr.data), bgr.step);
                if (!converted) {
                    return std::move(converted).error();
                }
                return bgr;
            }
            case PixelFormat::GRAY16_LE: {
                auto view = viewPlane(format, planes, 0);
                if (!view) {
                    return std::move(view).error();
                }
                cv::Mat gray8;
                view->convertTo(gray8, CV_8U, 1.0 / 257.0);
                cv::cvtColor(gray8, bgr, cv::COLOR_GRAY2BGR);
                return bgr;
            }
            default: {
                auto view = viewPlane(format, planes, 0);
                if (!view) {
                    return std::move(view).error();
                }
                auto code = toBgrConversionCode(format.pixelFormat);
                if (!code) {
                    return std::move(code).error();
                }
                if (*code < 0) {
                    return view->clone();
                }
                cv::cvtColor(*view, bgr, *code);
                return cropTo(bgr, format);
            }
        }
    } catch (const cv::Exception& e) {
        return Error::make(Errc::InvalidArgument, "OpenCV could not convert " + format.describe() +
                                                      " to BGR: " + e.what());
    }
}

// BGR into a YUV format with the format's matrix and range: full-resolution Y, U
// and V per row, chroma averaged over the pixels it covers (two for YUY2/UYVY, four
// for NV12/I420). An odd last column or row is repeated to fill its group.
Result<void> writeYuv(const cv::Mat& bgr, const Format& format, const PlaneSpans& spans) {
    std::array<cv::Mat, 3> targets;
    for (std::uint32_t plane = 0; plane < format.planeCount; ++plane) {
        auto view = viewPlane(format, spans, plane);
        if (!view) {
            return std::move(view).error();
        }
        targets[plane] = *view;
    }
    const Colorimetry colorimetry = format.colorimetry.resolved(format.pixelFormat, format.height);
    const bool planar =
        format.pixelFormat == PixelFormat::NV12 || format.pixelFormat == PixelFormat::I420;
    const bool yuy2 = format.pixelFormat == PixelFormat::YUY2;
    const int width = bgr.cols;
    const int height = bgr.rows;
    const int chromaWidth = halfUp(width);
    std::array<std::vector<std::uint8_t>, 2> y, u, v;
    for (int i = 0; i < 2; ++i) {
        y[i].resize(std::size_t(width));
        u[i].resize(std::size_t(width));
        v[i].resize(std::size_t(width));
    }
    const int rowsPerGroup = planar ? 2 : 1;
    for (int row = 0; row < height; row += rowsPerGroup) {
        const int rows = std::min(rowsPerGroup, height - row);
        for (int r = 0; r < rows; ++r) {
            rgbRowToYuv(bgr.ptr<std::uint8_t>(row + r), std::uint32_t(width), RgbOrder::Bgr,
                        colorimetry, y[r].data(), u[r].data(), v[r].data());
        }
        if (planar) {
            for (int r = 0; r < rows; ++r) {
                std::memcpy(targets[0].ptr(row + r), y[r].data(), std::size_t(width));
            }
            const int second = rows == 2 ? 1 : 0;
            auto* chroma1 = targets[1].ptr<std::uint8_t>(row / 2);
            auto* chroma2 = format.pixelFormat == PixelFormat::I420
                                ? targets[2].ptr<std::uint8_t>(row / 2)
                                : nullptr;
            for (int cx = 0; cx < chromaWidth; ++cx) {
                const auto x0 = std::size_t(2 * cx);
                const auto x1 = std::size_t(std::min(2 * cx + 1, width - 1));
                const auto average = [&](const std::array<std::vector<std::uint8_t>, 2>& c) {
                    return std::uint8_t((c[0][x0] + c[0][x1] + c[second][x0] + c[second][x1] + 2) /
                                        4);
                };
                if (chroma2) {
                    chroma1[cx] = average(u);
                    chroma2[cx] = average(v);
                } else {
                    chroma1[2 * cx] = average(u);
                    chroma1[2 * cx + 1] = average(v);
                }
            }
            continue;
        }
        auto* out = targets[0].ptr<std::uint8_t>(row);
        for (int cx = 0; cx < chromaWidth; ++cx) {
            const auto x0 = std::size_t(2 * cx);
            const auto x1 = std::size_t(std::min(2 * cx + 1, width - 1));
            const auto uAverage = std::uint8_t((u[0][x0] + u[0][x1] + 1) / 2);
            const auto vAverage = std::uint8_t((v[0][x0] + v[0][x1] + 1) / 2);
            std::uint8_t* group = out + 4 * cx;
            if (yuy2) {
                group[0] = y[0][x0];
                group[1] = uAverage;
                group[2] = y[0][x1];
                group[3] = vAverage;
            } else {
                group[0] = uAverage;
                group[1] = y[0][x0];
                group[2] = vAverage;
                group[3] = y[0][x1];
            }
        }
    }
    return {};
}

}  // namespace

Result<int> matType(PixelFormat format) {
    switch (format) {
        case PixelFormat::GRAY8:
            return CV_8UC1;
        case PixelFormat::GRAY16_LE:
            return CV_16UC1;
        case PixelFormat::BGR:
        case PixelFormat::RGB:
            return CV_8UC3;
        case PixelFormat::BGRA:
        case PixelFormat::RGBA:
        case PixelFormat::BGRx:
        case PixelFormat::RGBx:
            return CV_8UC4;
        default:
            return unsupported(format, "single-Mat form");
    }
}

std::optional<PixelFormat> pixelFormatForMatType(int cvType) {
    switch (cvType) {
        case CV_8UC1:
            return PixelFormat::GRAY8;
        case CV_16UC1:
            return PixelFormat::GRAY16_LE;
        case CV_8UC3:
            return PixelFormat::BGR;
        case CV_8UC4:
            return PixelFormat::BGRA;
        default:
            return std::nullopt;
    }
}

Result<int> toBgrConversionCode(PixelFormat format) {
    switch (format) {
        case PixelFormat::BGR:
            return -1;
        case PixelFormat::RGB:
            return cv::COLOR_RGB2BGR;
        case PixelFormat::BGRA:
        case PixelFormat::BGRx:
            return cv::COLOR_BGRA2BGR;
        case PixelFormat::RGBA:
        case PixelFormat::RGBx:
            return cv::COLOR_RGBA2BGR;
        case PixelFormat::GRAY8:
            return cv::COLOR_GRAY2BGR;
        case PixelFormat::NV12:
            return cv::COLOR_YUV2BGR_NV12;
        case PixelFormat::I420:
            return cv::COLOR_YUV2BGR_I420;
        case PixelFormat::YUY2:
            return cv::COLOR_YUV2BGR_YUY2;
        case PixelFormat::UYVY:
            return cv::COLOR_YUV2BGR_UYVY;
        default:
            // GRAY16_LE needs a depth conversion first; cvtColor alone cannot do it.
            return unsupported(format, "single cvtColor code to BGR");
    }
}

Result<int> fromBgrConversionCode(PixelFormat format) {
    switch (format) {
        case PixelFormat::BGR:
            return -1;
        case PixelFormat::RGB:
            return cv::COLOR_BGR2RGB;
        case PixelFormat::BGRA:
        case PixelFormat::BGRx:
            return cv::COLOR_BGR2BGRA;
        case PixelFormat::RGBA:
        case PixelFormat::RGBx:
            return cv::COLOR_BGR2RGBA;
        case PixelFormat::GRAY8:
            return cv::COLOR_BGR2GRAY;
        case PixelFormat::I420:
            return cv::COLOR_BGR2YUV_I420;
        default:
            return unsupported(format, "cvtColor code from BGR in OpenCV 4.6");
    }
}

Result<cv::Mat> matView(const LoanedFrame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    return viewWhole(frame.format(), spansOf(frame));
}

Result<cv::Mat> matView(const Frame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the Frame holds no frame");
    }
    return viewWhole(frame.format(), spansOf(frame));
}

Result<cv::Mat> planeView(const LoanedFrame& frame, std::uint32_t plane) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    return viewPlane(frame.format(), spansOf(frame), plane);
}

Result<cv::Mat> planeView(const Frame& frame, std::uint32_t plane) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the Frame holds no frame");
    }
    return viewPlane(frame.format(), spansOf(frame), plane);
}

Result<cv::Mat> lumaView(const LoanedFrame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    return viewLuma(frame.format(), spansOf(frame));
}

Result<cv::Mat> lumaView(const Frame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the Frame holds no frame");
    }
    return viewLuma(frame.format(), spansOf(frame));
}

Result<cv::Mat> toBgr(const Format& format, std::span<const std::byte> frameBytes) {
    auto spans = spansOf(format, frameBytes);
    if (!spans) {
        return std::move(spans).error();
    }
    return convertToBgr(format, *spans);
}

Result<cv::Mat> toBgr(const Frame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the Frame holds no frame");
    }
    return convertToBgr(frame.format(), spansOf(frame));
}

Result<cv::Mat> toBgr(const LoanedFrame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    return convertToBgr(frame.format(), spansOf(frame));
}

Result<void> writeBgr(const cv::Mat& bgr, const LoanedFrame& frame) {
    if (!frame.valid()) {
        return Error::make(Errc::InvalidArgument, "the LoanedFrame holds no slot");
    }
    const Format& format = frame.format();
    if (bgr.type() != CV_8UC3 || bgr.dims != 2 || bgr.cols != static_cast<int>(format.width) ||
        bgr.rows != static_cast<int>(format.height)) {
        return Error::make(Errc::InvalidArgument,
                           "writeBgr needs a CV_8UC3 Mat of " + std::to_string(format.width) + "x" +
                               std::to_string(format.height) + ", got type " +
                               std::to_string(bgr.type()) + " of " + std::to_string(bgr.cols) +
                               "x" + std::to_string(bgr.rows));
    }
    const PlaneSpans spans = spansOf(frame);
    try {
        switch (format.pixelFormat) {
            case PixelFormat::YUY2:
            case PixelFormat::UYVY:
            case PixelFormat::I420:
            case PixelFormat::NV12:
                return writeYuv(bgr, format, spans);
            case PixelFormat::GRAY16_LE: {
                auto target = viewPlane(format, spans, 0);
                if (!target) {
                    return std::move(target).error();
                }
                cv::Mat gray8;
                cv::cvtColor(bgr, gray8, cv::COLOR_BGR2GRAY);
                cv::Mat slot = *target;
                gray8.convertTo(slot, CV_16U, 257.0);
                return {};
            }
            default: {
                auto target = viewPlane(format, spans, 0);
                if (!target) {
                    return std::move(target).error();
                }
                auto code = fromBgrConversionCode(format.pixelFormat);
                if (!code) {
                    return std::move(code).error();
                }
                cv::Mat slot = *target;
                const unsigned char* slotData = slot.data;
                if (*code < 0) {
                    bgr.copyTo(slot);
                } else {
                    cv::cvtColor(bgr, slot, *code);
                }
                // Size and type match, so OpenCV writes in place; guard the assumption.
                if (slot.data != slotData) {
                    return Error::make(
                        Errc::Unsupported,
                        "OpenCV reallocated the slot view instead of writing into it");
                }
                return {};
            }
        }
    } catch (const cv::Exception& e) {
        return Error::make(Errc::InvalidArgument, "OpenCV could not write BGR into " +
                                                      format.describe() + ": " + e.what());
    }
}

}  // namespace shmframe
