// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file opencv.h
 * \brief cv::Mat views of shmframe frames, without copying (target shmframe::opencv).
 *
 * \code
 * auto frame = writer->loan();
 * cv::Mat slot = *shmframe::matView(*frame);      // BGR 1280x720 over the slot
 * capture.read(slot);                             // captures straight into shared memory
 * writer->publish(std::move(*frame));
 *
 * auto received = reader->next(std::chrono::seconds(1));
 * cv::Mat pixels = *shmframe::matView(*received);  // read-only: never write into it
 * \endcode
 *
 * A view is only valid while the frame it came from is alive: destroying or
 * publishing the LoanedFrame, or destroying the Frame, leaves the Mat dangling.
 * Clone the Mat to keep the pixels longer.
 *
 * Views of a received Frame point into memory that is mapped read-only. cv::Mat
 * has no const form, so such a Mat looks writable, but any write into it (an
 * OpenCV function that takes it as output, setTo(), drawing) kills the process
 * with SIGSEGV. Use it only as an input, or clone() it first.
 *
 * Packed formats are viewed as one Mat with the writer's stride as its step:
 * GRAY8 CV_8UC1, GRAY16_LE CV_16UC1, BGR/RGB CV_8UC3, BGRA/RGBA/BGRx/RGBx CV_8UC4
 * (channel order as the format's name says; OpenCV assumes BGR(A)). YUV formats
 * have no single-Mat form: view their planes with planeView() / lumaView(), or
 * convert them with toBgr().
 */
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>

#include "shmframe/error.h"
#include "shmframe/format.h"
#include "shmframe/reader.h"
#include "shmframe/writer.h"

namespace shmframe {

/**
 * \brief The OpenCV type of a whole frame of \a format (CV_8UC3 for BGR, ...).
 * \return Unsupported for the YUV formats, which have no single-Mat form.
 */
Result<int> matType(PixelFormat format);

/**
 * \brief The pixel format a writer should use for a Mat of \a cvType.
 * CV_8UC1 → GRAY8, CV_16UC1 → GRAY16_LE, CV_8UC3 → BGR, CV_8UC4 → BGRA
 * (OpenCV's own channel order); nullopt for any other type.
 */
std::optional<PixelFormat> pixelFormatForMatType(int cvType);

/**
 * \brief The cv::cvtColor code that turns a frame of \a format into BGR
 * (COLOR_RGB2BGR, COLOR_YUV2BGR_NV12, ...); -1 for BGR itself (nothing to do).
 * OpenCV's YUV codes are BT.601 limited range whatever the format's colorimetry
 * says: toBgr() converts YUV with the right matrix.
 * For NV12 the code is for cv::cvtColorTwoPlane or a contiguous (H*3/2)xW Mat;
 * for I420 a contiguous (H*3/2)xW Mat; for YUY2/UYVY a CV_8UC2 WxH Mat (even
 * sizes only: toBgr() pads odd ones).
 */
Result<int> toBgrConversionCode(PixelFormat format);

/**
 * \brief The cv::cvtColor code that turns a BGR (CV_8UC3) Mat into \a format;
 * -1 for BGR itself. Unsupported for GRAY16_LE, NV12, YUY2 and UYVY (OpenCV 4.6
 * has no such code; writeBgr() handles them all).
 */
Result<int> fromBgrConversionCode(PixelFormat format);

/**
 * \brief A writable Mat over the whole loaned slot, no copy. Its data pointer is
 * frame.plane(0).data() and its step the writer's stride.
 * \return Unsupported for YUV formats (use planeView()), InvalidArgument for an
 * empty LoanedFrame.
 */
Result<cv::Mat> matView(const LoanedFrame& frame);

/**
 * \brief A Mat over a received frame, no copy. READ-ONLY: the memory is mapped
 * read-only and writing into the Mat kills the process with SIGSEGV.
 * \return Unsupported for YUV formats, InvalidArgument for an empty Frame.
 */
Result<cv::Mat> matView(const Frame& frame);

/**
 * \brief A Mat over one plane, no copy, in the plane's natural OpenCV type:
 * NV12 Y CV_8UC1 WxH, NV12 UV CV_8UC2 (W/2)x(H/2); I420 Y, U, V CV_8UC1 (U and V
 * (W/2)x(H/2)); YUY2/UYVY CV_8UC2 WxH (the layout cvtColor takes); packed RGB and
 * gray formats as matView() for plane 0. Halves round up and YUY2/UYVY widths
 * round up to even for odd-sized frames, as GStreamer lays them out.
 * \return InvalidArgument for a plane index past the format's planes.
 */
Result<cv::Mat> planeView(const LoanedFrame& frame, std::uint32_t plane);
/// \brief planeView() of a received frame. READ-ONLY, as matView(const Frame&).
Result<cv::Mat> planeView(const Frame& frame, std::uint32_t plane);

/**
 * \brief The luma (brightness) plane as a CV_8UC1 Mat, no copy: plane 0 of GRAY8,
 * NV12 and I420. Unsupported for YUY2/UYVY (luma is interleaved with chroma),
 * GRAY16_LE and the RGB formats.
 */
Result<cv::Mat> lumaView(const LoanedFrame& frame);
/// \brief lumaView() of a received frame. READ-ONLY, as matView(const Frame&).
Result<cv::Mat> lumaView(const Frame& frame);

/**
 * \brief Converts a frame (laid out as \a format in \a frameBytes) into a new BGR
 * image (CV_8UC3, contiguous, owned by the caller). YUV is read with the matrix
 * and range of format.colorimetry by the project's one converter
 * (shmframe/color_convert.h), so the result matches the viewer and `shmframe
 * snapshot`. GRAY16_LE is scaled to 8 bits (v / 257, so 257 * g comes back as g);
 * RGBA/BGRA drop alpha. The planes are read in place.
 * \return InvalidArgument if \a frameBytes is smaller than the format says.
 */
Result<cv::Mat> toBgr(const Format& format, std::span<const std::byte> frameBytes);
/// \brief toBgr() of a received frame.
Result<cv::Mat> toBgr(const Frame& frame);
/// \brief toBgr() of a loaned frame (e.g. to check what was written).
Result<cv::Mat> toBgr(const LoanedFrame& frame);

/**
 * \brief Writes a BGR image (CV_8UC3, the frame's size) into a loaned frame of any
 * format, converting as needed (YUV with the matrix and range of the frame's
 * format.colorimetry and chroma averaged, alpha/x set to 255, GRAY16_LE as 257 *
 * gray). The result lands in the slot; only GRAY16_LE uses a temporary image on
 * the way.
 * \return InvalidArgument for a Mat of another size or type.
 */
Result<void> writeBgr(const cv::Mat& bgr, const LoanedFrame& frame);

}  // namespace shmframe
