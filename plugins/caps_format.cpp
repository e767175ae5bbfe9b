// SPDX-License-Identifier: LGPL-2.1-or-later
#include "caps_format.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

namespace shmframe::gst {

namespace {

std::string capsToString(const GstCaps* caps) {
    gchar* text = gst_caps_to_string(caps);
    std::string result = text ? text : "";
    g_free(text);
    return result;
}

// GStreamer's colorimetry enums and shmframe's, both ways. Values one side lacks map
// to Unknown (shmframe then uses the default for the format and size).
ColorRange rangeFromGst(GstVideoColorRange range) {
    switch (range) {
        case GST_VIDEO_COLOR_RANGE_0_255:
            return ColorRange::Full;
        case GST_VIDEO_COLOR_RANGE_16_235:
            return ColorRange::Limited;
        default:
            return ColorRange::Unknown;
    }
}

GstVideoColorRange rangeToGst(ColorRange range) {
    switch (range) {
        case ColorRange::Full:
            return GST_VIDEO_COLOR_RANGE_0_255;
        case ColorRange::Limited:
            return GST_VIDEO_COLOR_RANGE_16_235;
        case ColorRange::Unknown:
            break;
    }
    return GST_VIDEO_COLOR_RANGE_UNKNOWN;
}

constexpr std::pair<GstVideoColorMatrix, ColorMatrix> kMatrices[] = {
    {GST_VIDEO_COLOR_MATRIX_RGB, ColorMatrix::Rgb},
    {GST_VIDEO_COLOR_MATRIX_FCC, ColorMatrix::Fcc},
    {GST_VIDEO_COLOR_MATRIX_BT709, ColorMatrix::Bt709},
    {GST_VIDEO_COLOR_MATRIX_BT601, ColorMatrix::Bt601},
    {GST_VIDEO_COLOR_MATRIX_SMPTE240M, ColorMatrix::Smpte240m},
    {GST_VIDEO_COLOR_MATRIX_BT2020, ColorMatrix::Bt2020},
};

constexpr std::pair<GstVideoTransferFunction, ColorTransfer> kTransfers[] = {
    {GST_VIDEO_TRANSFER_GAMMA10, ColorTransfer::Linear},
    {GST_VIDEO_TRANSFER_GAMMA18, ColorTransfer::Gamma18},
    {GST_VIDEO_TRANSFER_GAMMA20, ColorTransfer::Gamma20},
    {GST_VIDEO_TRANSFER_GAMMA22, ColorTransfer::Gamma22},
    {GST_VIDEO_TRANSFER_BT709, ColorTransfer::Bt709},
    {GST_VIDEO_TRANSFER_SMPTE240M, ColorTransfer::Smpte240m},
    {GST_VIDEO_TRANSFER_SRGB, ColorTransfer::Srgb},
    {GST_VIDEO_TRANSFER_GAMMA28, ColorTransfer::Gamma28},
    {GST_VIDEO_TRANSFER_LOG100, ColorTransfer::Log100},
    {GST_VIDEO_TRANSFER_LOG316, ColorTransfer::Log316},
    {GST_VIDEO_TRANSFER_BT2020_12, ColorTransfer::Bt2020_12},
    {GST_VIDEO_TRANSFER_ADOBERGB, ColorTransfer::AdobeRgb},
    {GST_VIDEO_TRANSFER_BT2020_10, ColorTransfer::Bt2020_10},
    {GST_VIDEO_TRANSFER_SMPTE2084, ColorTransfer::Smpte2084},
    {GST_VIDEO_TRANSFER_ARIB_STD_B67, ColorTransfer::AribStdB67},
    {GST_VIDEO_TRANSFER_BT601, ColorTransfer::Bt601},
};

constexpr std::pair<GstVideoColorPrimaries, ColorPrimaries> kPrimaries[] = {
    {GST_VIDEO_COLOR_PRIMARIES_BT709, ColorPrimaries::Bt709},
    {GST_VIDEO_COLOR_PRIMARIES_BT470M, ColorPrimaries::Bt470m},
    {GST_VIDEO_COLOR_PRIMARIES_BT470BG, ColorPrimaries::Bt470bg},
    {GST_VIDEO_COLOR_PRIMARIES_SMPTE170M, ColorPrimaries::Smpte170m},
    {GST_VIDEO_COLOR_PRIMARIES_SMPTE240M, ColorPrimaries::Smpte240m},
    {GST_VIDEO_COLOR_PRIMARIES_FILM, ColorPrimaries::Film},
    {GST_VIDEO_COLOR_PRIMARIES_BT2020, ColorPrimaries::Bt2020},
    {GST_VIDEO_COLOR_PRIMARIES_ADOBERGB, ColorPrimaries::AdobeRgb},
    {GST_VIDEO_COLOR_PRIMARIES_SMPTEST428, ColorPrimaries::SmpteSt428},
    {GST_VIDEO_COLOR_PRIMARIES_SMPTERP431, ColorPrimaries::SmpteRp431},
    {GST_VIDEO_COLOR_PRIMARIES_SMPTEEG432, ColorPrimaries::SmpteEg432},
    {GST_VIDEO_COLOR_PRIMARIES_EBU3213, ColorPrimaries::Ebu3213},
};

template <typename Gst, typename Ours, std::size_t N>
Ours fromGst(const std::pair<Gst, Ours> (&table)[N], Gst value) {
    for (const auto& [gst, ours] : table) {
        if (gst == value) {
            return ours;
        }
    }
    return Ours::Unknown;
}

template <typename Gst, typename Ours, std::size_t N>
Gst toGst(const std::pair<Gst, Ours> (&table)[N], Ours value) {
    for (const auto& [gst, ours] : table) {
        if (ours == value) {
            return gst;
        }
    }
    return static_cast<Gst>(0);  // every GStreamer colorimetry enum's UNKNOWN
}

}  // namespace

Colorimetry colorimetryFromGst(const GstVideoColorimetry& colorimetry) {
    return Colorimetry{fromGst(kMatrices, colorimetry.matrix), rangeFromGst(colorimetry.range),
                       fromGst(kTransfers, colorimetry.transfer),
                       fromGst(kPrimaries, colorimetry.primaries)};
}

GstVideoColorimetry colorimetryToGst(const Colorimetry& colorimetry) {
    GstVideoColorimetry out;
    out.range = rangeToGst(colorimetry.range);
    out.matrix = toGst(kMatrices, colorimetry.matrix);
    out.transfer = toGst(kTransfers, colorimetry.transfer);
    out.primaries = toGst(kPrimaries, colorimetry.primaries);
    return out;
}

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

Result<Format> formatFromCaps(const GstCaps* caps, const GstVideoAlignment* alignment) {
    if (!caps || !gst_caps_is_fixed(caps)) {
        return Error::make(Errc::InvalidArgument, "caps are not fixed");
    }
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return Error::make(Errc::InvalidArgument, "caps are not raw video: " + capsToString(caps));
    }
    if (alignment) {
        GstVideoAlignment align = *alignment;
        if (!gst_video_info_align(&info, &align)) {
            return Error::make(
                Errc::InvalidArgument,
                "the padding and stride alignment asked for do not fit " + capsToString(caps));
        }
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
    format->colorimetry = colorimetryFromGst(info.colorimetry);
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
            static_cast<std::uint32_t>(GST_VIDEO_INFO_HEIGHT(&info)) == format.height &&
            colorimetryFromGst(info.colorimetry) == format.colorimetry) {
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
    // The pool's colorimetry; fields it leaves Unknown keep GStreamer's default.
    const GstVideoColorimetry colorimetry = colorimetryToGst(format.colorimetry);
    if (colorimetry.range != GST_VIDEO_COLOR_RANGE_UNKNOWN) {
        info.colorimetry.range = colorimetry.range;
    }
    if (colorimetry.matrix != GST_VIDEO_COLOR_MATRIX_UNKNOWN) {
        info.colorimetry.matrix = colorimetry.matrix;
    }
    if (colorimetry.transfer != GST_VIDEO_TRANSFER_UNKNOWN) {
        info.colorimetry.transfer = colorimetry.transfer;
    }
    if (colorimetry.primaries != GST_VIDEO_COLOR_PRIMARIES_UNKNOWN) {
        info.colorimetry.primaries = colorimetry.primaries;
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

bool sameVideo(const Format& a, const Format& b) {
    return a.pixelFormat == b.pixelFormat && a.width == b.width && a.height == b.height &&
           a.frameRate == b.frameRate && a.colorimetry == b.colorimetry;
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
