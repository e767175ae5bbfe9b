// SPDX-License-Identifier: LGPL-2.1-or-later
#include "rtsp_client.h"

#include <gst/app/gstappsink.h>

#include <cstdlib>
#include <stdexcept>

namespace shmframe::test {

RtspClient::RtspClient(const std::string& url) {
    const std::string description =
        "rtspsrc location=" + url +
        " latency=0 protocols=tcp ! decodebin ! videoconvert ! video/x-raw,format=RGBA ! "
        "appsink name=sink sync=false max-buffers=4 drop=true";
    GError* error = nullptr;
    pipeline_ = gst_parse_launch(description.c_str(), &error);
    if (!pipeline_) {
        std::string message = error ? error->message : "?";
        g_clear_error(&error);
        throw std::runtime_error("client pipeline: " + message);
    }
    g_clear_error(&error);
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    gst_element_set_state(pipeline_, GST_STATE_PLAYING);
}

RtspClient::~RtspClient() {
    if (pipeline_) {
        gst_element_set_state(pipeline_, GST_STATE_NULL);
    }
    if (sink_) {
        gst_object_unref(sink_);
    }
    if (pipeline_) {
        gst_object_unref(pipeline_);
    }
}

std::optional<DecodedFrame> RtspClient::pull(std::chrono::milliseconds timeout) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink_),
                                                     GstClockTime(timeout.count()) * GST_MSECOND);
    if (!sample) {
        return std::nullopt;
    }
    DecodedFrame frame;
    const GstStructure* structure = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
    gst_structure_get_int(structure, "width", &frame.width);
    gst_structure_get_int(structure, "height", &frame.height);
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buffer && frame.width > 0 && frame.height > 0 &&
        gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        // RGBA rows are padded to 4 bytes, which they already are.
        const std::size_t offset = (std::size_t(frame.height / 2) * std::size_t(frame.width) +
                                    std::size_t(frame.width / 2)) *
                                   4;
        if (offset + 4 <= map.size) {
            for (int i = 0; i < 4; ++i) {
                frame.centre[std::size_t(i)] = map.data[offset + std::size_t(i)];
            }
        }
        gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
    return frame;
}

int RtspClient::countFrames(const std::function<bool(const DecodedFrame&)>& matches, int wanted,
                            std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int matched = 0;
    while (matched < wanted) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        if (auto frame = pull(left); frame && matches(*frame)) {
            ++matched;
        }
    }
    return matched;
}

std::optional<std::string> RtspClient::waitForError(std::chrono::milliseconds timeout) {
    GstBus* bus = gst_element_get_bus(pipeline_);
    GstMessage* message = gst_bus_timed_pop_filtered(
        bus, GstClockTime(timeout.count()) * GST_MSECOND, GST_MESSAGE_ERROR);
    gst_object_unref(bus);
    if (!message) {
        return std::nullopt;
    }
    GError* error = nullptr;
    gst_message_parse_error(message, &error, nullptr);
    std::string text = error ? error->message : "?";
    g_clear_error(&error);
    gst_message_unref(message);
    errors_ += text + "\n";
    return text;
}

std::string RtspClient::errors() {
    while (waitForError(std::chrono::milliseconds(0))) {
    }
    return errors_.empty() ? "(no pipeline error)" : errors_;
}

bool looksLike(const DecodedFrame& frame, int width, int height, int r, int g, int b) {
    auto near = [](int value, int expected) { return std::abs(value - expected) <= 48; };
    return frame.width == width && frame.height == height && near(frame.centre[0], r) &&
           near(frame.centre[1], g) && near(frame.centre[2], b);
}

}  // namespace shmframe::test
