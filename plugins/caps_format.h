// SPDX-License-Identifier: LGPL-2.1-or-later
// Translation between GStreamer raw-video caps and shmframe::Format.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>

#include "shmframe/error.h"
#include "shmframe/format.h"

namespace shmframe::gst {

/// Caps of every format a pool can hold; the pad templates of both elements.
#define SHMFRAME_VIDEO_CAPS                                                                \
    "video/x-raw, "                                                                        \
    "format = (string) { RGBA, BGRA, RGBx, BGRx, RGB, BGR, GRAY8, GRAY16_LE, NV12, I420, " \
    "YUY2, UYVY }, "                                                                       \
    "width = (int) [ 1, 16384 ], height = (int) [ 1, 16384 ], "                            \
    "framerate = (fraction) [ 0/1, 2147483647/1 ]"

GstVideoFormat toGstVideoFormat(PixelFormat format);

/// shmframe's colorimetry for GStreamer's; values shmframe has no name for become Unknown.
Colorimetry colorimetryFromGst(const GstVideoColorimetry& colorimetry);
/// GStreamer's colorimetry for shmframe's; Unknown fields become GStreamer's UNKNOWN.
GstVideoColorimetry colorimetryToGst(const Colorimetry& colorimetry);

/**
 * The pool format for negotiated caps. The layout is GStreamer's default for the
 * caps (GstVideoInfo), so an upstream element that ignores GstVideoMeta still
 * writes the slot correctly; with \a alignment (a decoder's padding and stride
 * alignment, GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT) it is the padded layout
 * gst_video_info_align() gives: planes start at the first visible pixel, strides
 * and frameSize include the padding. The caps string goes into Format::caps
 * verbatim and the negotiated colorimetry (GStreamer's default when the caps name
 * none) into Format::colorimetry.
 */
Result<Format> formatFromCaps(const GstCaps* caps, const GstVideoAlignment* alignment = nullptr);

/// True when \a a and \a b describe the same video (format, size, rate, colours),
/// whatever their plane layouts and caps strings.
bool sameVideo(const Format& a, const Format& b);

/**
 * Caps for a format read from a feed. The writer's caps string is used when it
 * parses and agrees with the checked Format (format, size, colorimetry); otherwise
 * caps are built from the Format (colorimetry included), so a foreign or damaged
 * string cannot mislead downstream.
 * \a usedWriterCaps tells which one it was.
 */
GstCaps* capsFromFormat(const Format& format, bool* usedWriterCaps = nullptr);

/// True when the format's planes sit where GStreamer puts them for \a info by default.
bool layoutIsDefault(const Format& format, const GstVideoInfo& info);

/// Adds a GstVideoMeta that describes the format's planes (offsets, strides).
GstVideoMeta* addVideoMeta(GstBuffer* buffer, const Format& format);

/// Frame duration in ns from the frame rate; GST_CLOCK_TIME_NONE when variable.
GstClockTime frameDuration(const Format& format);

}  // namespace shmframe::gst
