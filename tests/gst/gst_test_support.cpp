// SPDX-License-Identifier: LGPL-2.1-or-later
#include "gst_test_support.h"

#include <cstring>

#include "test_support.h"

namespace shmframe::gsttest {

Pipeline::Pipeline(const std::string& description) {
    GError* error = nullptr;
    pipeline_ = gst_parse_launch(description.c_str(), &error);
    if (error) {
        parseError_ = error->message;
        g_error_free(error);
    }
}

Pipeline::~Pipeline() {
    reset();
}

void Pipeline::reset() {
    for (GstElement* element : named_) {
        gst_object_unref(element);
    }
    named_.clear();
    if (pipeline_) {
        gst_element_set_state(pipeline_, GST_STATE_NULL);
        gst_object_unref(pipeline_);
        pipeline_ = nullptr;
    }
}

GstElement* Pipeline::element(const char* name) {
    GstElement* element = gst_bin_get_by_name(GST_BIN(pipeline_), name);
    if (element) {
        named_.push_back(element);
    }
    return element;
}

GstStateChangeReturn Pipeline::setState(GstState state) {
    return gst_element_set_state(pipeline_, state);
}

GstMessage* Pipeline::waitMessage(int types, std::chrono::milliseconds timeout) {
    GstBus* bus = gst_element_get_bus(pipeline_);
    GstMessage* message =
        gst_bus_timed_pop_filtered(bus, static_cast<GstClockTime>(timeout.count()) * GST_MSECOND,
                                   static_cast<GstMessageType>(types));
    gst_object_unref(bus);
    return message;
}

std::string messageText(GstMessage* message) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        gst_message_parse_error(message, &error, &debug);
    } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
        gst_message_parse_warning(message, &error, &debug);
    } else {
        return GST_MESSAGE_TYPE_NAME(message);
    }
    std::string text = error ? error->message : "";
    if (debug) {
        text += std::string(" (") + debug + ")";
    }
    if (error) {
        g_error_free(error);
    }
    g_free(debug);
    return text;
}

GstSample* pullSample(GstElement* appsink, std::chrono::milliseconds timeout) {
    return gst_app_sink_try_pull_sample(GST_APP_SINK(appsink),
                                        static_cast<GstClockTime>(timeout.count()) * GST_MSECOND);
}

std::uint64_t statOf(GstElement* element, const char* field) {
    GstStructure* stats = nullptr;
    g_object_get(element, "stats", &stats, nullptr);
    if (!stats) {
        return 0;
    }
    guint64 value = 0;
    guint small = 0;
    if (!gst_structure_get_uint64(stats, field, &value) &&
        gst_structure_get_uint(stats, field, &small)) {
        value = small;
    }
    gst_structure_free(stats);
    return value;
}

std::optional<std::uint64_t> writerPtsOf(GstBuffer* buffer) {
    GstCaps* reference = gst_caps_new_empty_simple("timestamp/x-shmframe-writer-pts");
    GstReferenceTimestampMeta* meta = gst_buffer_get_reference_timestamp_meta(buffer, reference);
    gst_caps_unref(reference);
    if (!meta) {
        return std::nullopt;
    }
    return meta->timestamp;
}

std::string formatNameOf(GstCaps* caps) {
    const gchar* name = gst_structure_get_string(gst_caps_get_structure(caps, 0), "format");
    return name ? name : "";
}

int widthOf(GstCaps* caps) {
    int width = 0;
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "width", &width);
    return width;
}

int heightOf(GstCaps* caps) {
    int height = 0;
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "height", &height);
    return height;
}

std::string comparePlanes(GstBuffer* buffer, GstCaps* caps, const Format& layout,
                          std::span<const std::byte> frameBytes) {
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, caps)) {
        return "caps are not video";
    }
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ)) {
        return "cannot map the buffer as a video frame";
    }
    std::string result;
    if (GST_VIDEO_FRAME_N_PLANES(&frame) != layout.planeCount) {
        result = "plane count differs";
    }
    for (std::uint32_t plane = 0; result.empty() && plane < layout.planeCount; ++plane) {
        const auto* data = static_cast<const std::byte*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
        const auto stride = static_cast<std::size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane));
        for (std::uint32_t row = 0; row < layout.planeRows(plane); ++row) {
            const std::size_t expectedAt =
                layout.planes[plane].offset + std::size_t{row} * layout.planes[plane].stride;
            if (expectedAt + layout.rowBytes(plane) > frameBytes.size() ||
                std::memcmp(data + row * stride, frameBytes.data() + expectedAt,
                            layout.rowBytes(plane)) != 0) {
                result =
                    "plane " + std::to_string(plane) + " row " + std::to_string(row) + " differs";
                break;
            }
        }
    }
    gst_video_frame_unmap(&frame);
    return result;
}

std::vector<std::byte> patternFrame(const Format& format, std::uint64_t seed) {
    std::vector<std::byte> bytes(format.frameSize);
    test::fillPattern(bytes, seed);
    return bytes;
}

std::vector<GstSample*> collectSamples(const std::string& description, std::size_t count) {
    std::vector<GstSample*> samples;
    Pipeline pipeline(description);
    if (!pipeline.valid()) {
        return samples;
    }
    GstElement* out = pipeline.element("out");
    pipeline.setState(GST_STATE_PLAYING);
    while (samples.size() < count) {
        GstSample* sample = pullSample(out);
        if (!sample) {
            break;
        }
        samples.push_back(sample);
    }
    return samples;
}

}  // namespace shmframe::gsttest
