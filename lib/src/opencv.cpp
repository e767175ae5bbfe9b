// SPDX-License-Identifier: LGPL-2.1-or-later
// cv::Mat views of frames. Every view is built from the plane spans the library
// hands out and checked against them, so a view never reaches past its plane.

#include "shmframe/opencv.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

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

// I420 as OpenCV wants it: one (H*3/2)xW CV_8UC1 Mat, Y rows then U then V, no
// padding, even sizes. Frames laid out exactly so are wrapped; others are gathered,
// odd sizes with their last luma column and row repeated (crop the result).
Result<cv::Mat> contiguousI420(const Format& format, const PlaneSpans& planes) {
    const int width = static_cast<int>(format.width);
    const int height = static_cast<int>(format.height);
    const int evenWidth = 2 * halfUp(width);
    const int evenHeight = 2 * halfUp(height);
    const std::size_t lumaSize = std::size_t(width) * std::size_t(height);
    const std::size_t chromaSize = lumaSize / 4;
    const bool packed = width == evenWidth && height == evenHeight &&
                        format.planes[0].stride == format.width &&
                        format.planes[1].stride == format.width / 2 &&
                        format.planes[2].stride == format.width / 2 &&
                        planes[1].data() == planes[0].data() + lumaSize &&
                        planes[2].data() == planes[1].data() + chromaSize &&
                        planes[0].size() >= lumaSize && planes[2].size() >= chromaSize;
    if (packed) {
        return wrap({CV_8UC1, width, height * 3 / 2}, {planes[0].data(), lumaSize + 2 * chromaSize},
                    format.width, 0);
    }
    std::array<cv::Mat, 3> views;
    for (std::uint32_t plane = 0; plane < 3; ++plane) {
        auto view = viewPlane(format, planes, plane);
        if (!view) {
            return std::move(view).error();
        }
        views[plane] = *view;
    }
    cv::Mat gathered(evenHeight * 3 / 2, evenWidth, CV_8UC1);
    cv::Mat luma(evenHeight, evenWidth, CV_8UC1, gathered.data);
    cv::copyMakeBorder(views[0], luma, 0, evenHeight - height, 0, evenWidth - width,
                       cv::BORDER_REPLICATE);
    auto* out = gathered.data + std::size_t(evenWidth) * std::size_t(evenHeight);
    for (int plane = 1; plane < 3; ++plane) {
        for (int row = 0; row < views[plane].rows; ++row) {
            const auto bytes = static_cast<std::size_t>(views[plane].cols);
            std::memcpy(out, views[plane].ptr<unsigned char>(row), bytes);
            out += bytes;
        }
    }
    return gathered;
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
            case PixelFormat::NV12: {
                auto luma = viewPlane(format, planes, 0);
                auto chroma = viewPlane(format, planes, 1);
                if (!luma) {
                    return std::move(luma).error();
                }
                if (!chroma) {
                    return std::move(chroma).error();
                }
                // Two planes with their own steps: no gathering copy needed, except
                // for odd sizes, where OpenCV wants an even luma plane.
                cv::Mat lumaPlane = *luma;
                const int padRight = 2 * chroma->cols - luma->cols;
                const int padBottom = 2 * chroma->rows - luma->rows;
                if (padRight > 0 || padBottom > 0) {
                    cv::copyMakeBorder(*luma, lumaPlane, 0, padBottom, 0, padRight,
                                       cv::BORDER_REPLICATE);
                }
                cv::cvtColorTwoPlane(lumaPlane, *chroma, bgr, cv::COLOR_YUV2BGR_NV12);
                return cropTo(bgr, format);
            }
            case PixelFormat::I420: {
                auto i420 = contiguousI420(format, planes);
                if (!i420) {
                    return std::move(i420).error();
                }
                cv::cvtColor(*i420, bgr, cv::COLOR_YUV2BGR_I420);
                return cropTo(bgr, format);
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

// BT.601 limited range, the inverse of what OpenCV's YUV2BGR codes assume.
struct Yuv {
    int y, u, v;
};
Yuv bgrToYuv(const unsigned char* bgr) {
    const int b = bgr[0];
    const int g = bgr[1];
    const int r = bgr[2];
    return {((66 * r + 129 * g + 25 * b + 128) >> 8) + 16,
            ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128,
            ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128};
}

Result<void> writePackedYuv422(const cv::Mat& bgr, cv::Mat target, bool yuy2) {
    for (int row = 0; row < bgr.rows; ++row) {
        const auto* in = bgr.ptr<unsigned char>(row);
        auto* out = target.ptr<unsigned char>(row);
        for (int col = 0; col < bgr.cols; col += 2) {
            // An odd last pixel is repeated to fill its Y-U-Y-V group.
            const int next = col + 1 < bgr.cols ? col + 1 : col;
            const Yuv left = bgrToYuv(in + 3 * col);
            const Yuv right = bgrToYuv(in + 3 * next);
            const auto u = static_cast<unsigned char>((left.u + right.u + 1) / 2);
            const auto v = static_cast<unsigned char>((left.v + right.v + 1) / 2);
            unsigned char* group = out + 2 * col;
            if (yuy2) {
                group[0] = static_cast<unsigned char>(left.y);
                group[1] = u;
                group[2] = static_cast<unsigned char>(right.y);
                group[3] = v;
            } else {
                group[0] = u;
                group[1] = static_cast<unsigned char>(left.y);
                group[2] = v;
                group[3] = static_cast<unsigned char>(right.y);
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
            case PixelFormat::UYVY: {
                auto target = viewPlane(format, spans, 0);
                if (!target) {
                    return std::move(target).error();
                }
                return writePackedYuv422(bgr, *target, format.pixelFormat == PixelFormat::YUY2);
            }
            case PixelFormat::I420:
            case PixelFormat::NV12: {
                // OpenCV converts even sizes only: pad odd ones by repeating the edge.
                const int width = bgr.cols;
                const int height = bgr.rows;
                const int evenWidth = 2 * halfUp(width);
                const int evenHeight = 2 * halfUp(height);
                cv::Mat padded = bgr;
                if (evenWidth != width || evenHeight != height) {
                    cv::copyMakeBorder(bgr, padded, 0, evenHeight - height, 0, evenWidth - width,
                                       cv::BORDER_REPLICATE);
                }
                cv::Mat i420;
                cv::cvtColor(padded, i420, cv::COLOR_BGR2YUV_I420);
                const int chromaWidth = evenWidth / 2;
                const auto* luma = i420.ptr<unsigned char>(0);
                const auto* chromaU = luma + std::size_t(evenWidth) * std::size_t(evenHeight);
                const auto* chromaV =
                    chromaU + std::size_t(chromaWidth) * std::size_t(evenHeight / 2);
                std::array<cv::Mat, 3> targets;
                for (std::uint32_t plane = 0; plane < format.planeCount; ++plane) {
                    auto view = viewPlane(format, spans, plane);
                    if (!view) {
                        return std::move(view).error();
                    }
                    targets[plane] = *view;
                }
                for (int row = 0; row < height; ++row) {
                    std::memcpy(targets[0].ptr(row), luma + std::size_t(row) * evenWidth,
                                std::size_t(width));
                }
                for (int row = 0; row < evenHeight / 2; ++row) {
                    const auto* u = chromaU + std::size_t(row) * chromaWidth;
                    const auto* v = chromaV + std::size_t(row) * chromaWidth;
                    if (format.pixelFormat == PixelFormat::I420) {
                        std::memcpy(targets[1].ptr(row), u, std::size_t(chromaWidth));
                        std::memcpy(targets[2].ptr(row), v, std::size_t(chromaWidth));
                    } else {
                        auto* uv = targets[1].ptr<unsigned char>(row);
                        for (int col = 0; col < chromaWidth; ++col) {
                            uv[2 * col] = u[col];
                            uv[2 * col + 1] = v[col];
                        }
                    }
                }
                return {};
            }
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
