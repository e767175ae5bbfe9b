// SPDX-License-Identifier: LGPL-2.1-or-later
#include "caps_format.h"

#include <algorithm>
#include <string_view>
#include <vector>

namespace shmframe::gst {

namespace {

std::string capsToString(const GstCaps* caps) {
    gchar* text = gst_caps_to_string(caps);
    std::string result = text ? text : "";
    g_free(text);
    return result;
}

}  // namespace

GstVideoFormat toGstVideoFormat(PixelFormat format) {
    // A table, not gst_video_format_from_string: this runs for every frame.
    switch (format) {
        case PixelFormat::RGBA:
            return GST_VIDEO_FORMAT_RGBA;
        case PixelFormat::BGRA:
            return GST_VIDEO_FORMAT_BGRA;
        case PixelFormat::RGBx:
            return GST_VIDEO_FORMAT_RGBx;
        case PixelFormat::BGRx:
            return GST_VIDEO_FORMAT_BGRx;
        case PixelFormat::RGB:
            return GST_VIDEO_FORMAT_RGB;
        case PixelFormat::BGR:
            return GST_VIDEO_FORMAT_BGR;
        case PixelFormat::GRAY8:
            return GST_VIDEO_FORMAT_GRAY8;
        case PixelFormat::GRAY16_LE:
            return GST_VIDEO_FORMAT_GRAY16_LE;
        case PixelFormat::NV12:
            return GST_VIDEO_FORMAT_NV12;
        case PixelFormat::I420:
            return GST_VIDEO_FORMAT_I420;
        case PixelFormat::YUY2:
            return GST_VIDEO_FORMAT_YUY2;
        case PixelFormat::UYVY:
            return GST_VIDEO_FORMAT_UYVY;
        case PixelFormat::Unknown:
            break;
    }
    return GST_VIDEO_FORMAT_UNKNOWN;
}

Result<Format> formatFromCaps(const GstCaps* caps) {
    if (!caps || !gst_caps_is_fixed(caps)) {
        return Error::make(Errc::InvalidArgument, "caps are not fixed");
    }
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return Error::make(Errc::InvalidArgument, "caps are not raw video: " + capsToString(caps));
    }
    const char* name = gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info));
    const auto pixelFormat = pixelFormatFromString(name ? name : "");
    if (!pixelFormat) {
        return Error::make(Errc::Unsupported,
                           std::string("pixel format ") + (name ? name : "?") +
                               " is not supported; convert to one of RGBA BGRA RGBx BGRx RGB BGR "
                               "GRAY8 GRAY16_LE NV12 I420 YUY2 UYVY (e.g. with videoconvert)");
    }
    const GstVideoFormatInfo* finfo = info.finfo;
    const auto nPlanes = GST_VIDEO_INFO_N_PLANES(&info);
    const auto height = static_cast<std::uint32_t>(GST_VIDEO_INFO_HEIGHT(&info));
    std::vector<Plane> planes;
    for (guint plane = 0; plane < nPlanes; ++plane) {
        // The rows of a plane follow the vertical subsampling of its first component.
        guint rows = height;
        for (guint comp = 0; comp < GST_VIDEO_FORMAT_INFO_N_COMPONENTS(finfo); ++comp) {
            if (GST_VIDEO_FORMAT_INFO_PLANE(finfo, comp) == plane) {
                rows = static_cast<guint>(
                    GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT(finfo, comp, static_cast<gint>(height)));
                break;
            }
        }
        Plane p;
        p.offset = GST_VIDEO_INFO_PLANE_OFFSET(&info, plane);
        p.stride = static_cast<std::uint32_t>(GST_VIDEO_INFO_PLANE_STRIDE(&info, plane));
        p.size = std::uint64_t{p.stride} * rows;
        planes.push_back(p);
    }
    Fraction rate{GST_VIDEO_INFO_FPS_N(&info), GST_VIDEO_INFO_FPS_D(&info)};
    if (rate.den == 0) {
        rate = {0, 1};
    }
    auto format = Format::withLayout(*pixelFormat, static_cast<std::uint32_t>(info.width), height,
                                     rate, planes, GST_VIDEO_INFO_SIZE(&info));
    if (!format) {
        return format;
    }
    // Longer strings cannot travel; readers then rebuild caps from the layout.
    std::string text = capsToString(caps);
    if (text.size() <= Format::kMaxCapsLength) {
        format->caps = std::move(text);
    }
    return format;
}

GstCaps* capsFromFormat(const Format& format, bool* usedWriterCaps) {
    if (usedWriterCaps) {
        *usedWriterCaps = false;
    }
    const GstVideoFormat gstFormat = toGstVideoFormat(format.pixelFormat);
    if (!format.caps.empty()) {
        GstCaps* parsed = gst_caps_from_string(format.caps.c_str());
        GstVideoInfo info;
        if (parsed && gst_caps_is_fixed(parsed) && gst_caps_get_size(parsed) == 1 &&
            gst_caps_features_is_equal(gst_caps_get_features(parsed, 0),
                                       GST_CAPS_FEATURES_MEMORY_SYSTEM_MEMORY) &&
            gst_video_info_from_caps(&info, parsed) && GST_VIDEO_INFO_FORMAT(&info) == gstFormat &&
            static_cast<std::uint32_t>(GST_VIDEO_INFO_WIDTH(&info)) == format.width &&
            static_cast<std::uint32_t>(GST_VIDEO_INFO_HEIGHT(&info)) == format.height) {
            if (usedWriterCaps) {
                *usedWriterCaps = true;
            }
            return parsed;
        }
        if (parsed) {
            gst_caps_unref(parsed);
        }
    }
    GstVideoInfo info;
    gst_video_info_init(&info);
    if (!gst_video_info_set_format(&info, gstFormat, format.width, format.height)) {
        return nullptr;
    }
    if (format.frameRate.num > 0 && format.frameRate.den > 0) {
        GST_VIDEO_INFO_FPS_N(&info) = format.frameRate.num;
        GST_VIDEO_INFO_FPS_D(&info) = format.frameRate.den;
    } else {
        GST_VIDEO_INFO_FPS_N(&info) = 0;
        GST_VIDEO_INFO_FPS_D(&info) = 1;
    }
    return gst_video_info_to_caps(&info);
}

bool layoutIsDefault(const Format& format, const GstVideoInfo& info) {
    if (GST_VIDEO_INFO_N_PLANES(&info) != format.planeCount) {
        return false;
    }
    for (std::uint32_t plane = 0; plane < format.planeCount; ++plane) {
        if (GST_VIDEO_INFO_PLANE_OFFSET(&info, plane) != format.planes[plane].offset ||
            static_cast<std::uint32_t>(GST_VIDEO_INFO_PLANE_STRIDE(&info, plane)) !=
                format.planes[plane].stride) {
            return false;
        }
    }
    return true;
}

GstVideoMeta* addVideoMeta(GstBuffer* buffer, const Format& format) {
    gsize offsets[GST_VIDEO_MAX_PLANES] = {};
    gint strides[GST_VIDEO_MAX_PLANES] = {};
    const guint planes = std::min<guint>(format.planeCount, GST_VIDEO_MAX_PLANES);
    for (guint plane = 0; plane < planes; ++plane) {
        offsets[plane] = format.planes[plane].offset;
        strides[plane] = static_cast<gint>(format.planes[plane].stride);
    }
    return gst_buffer_add_video_meta_full(buffer, GST_VIDEO_FRAME_FLAG_NONE,
                                          toGstVideoFormat(format.pixelFormat), format.width,
                                          format.height, planes, offsets, strides);
}

GstClockTime frameDuration(const Format& format) {
    if (format.frameRate.num <= 0 || format.frameRate.den <= 0) {
        return GST_CLOCK_TIME_NONE;
    }
    return gst_util_uint64_scale_int(GST_SECOND, format.frameRate.den, format.frameRate.num);
}

}  // namespace shmframe::gst
