// SPDX-License-Identifier: LGPL-2.1-or-later
// Helpers for the GStreamer tests: pipelines from gst_parse_launch, samples, stats,
// and pixel comparisons that respect each side's strides.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "shmframe/format.h"
#include "shmframe/reader.h"

namespace shmframe::gsttest {

using namespace std::chrono_literals;

/// A pipeline that is stopped and freed at the end of the test.
class Pipeline {
  public:
    explicit Pipeline(const std::string& description);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;

    bool valid() const { return pipeline_ != nullptr && parseError_.empty(); }
    const std::string& parseError() const { return parseError_; }
    GstElement* get() const { return pipeline_; }
    /// A named element (owned by the pipeline).
    GstElement* element(const char* name);

    GstStateChangeReturn setState(GstState state);
    /// The next bus message of one of \a types, or nullptr after \a timeout (a hang guard).
    GstMessage* waitMessage(int types, std::chrono::milliseconds timeout = 20s);
    /// Sets NULL and frees the pipeline now.
    void reset();

  private:
    GstElement* pipeline_ = nullptr;
    std::string parseError_;
    std::vector<GstElement*> named_;
};

/// "message (debug)" of an error or warning message.
std::string messageText(GstMessage* message);

/// The next sample of an appsink, or nullptr after \a timeout (or at EOS).
GstSample* pullSample(GstElement* appsink, std::chrono::milliseconds timeout = 20s);

/// A counter from an element's `stats` structure (uint64 or uint fields).
std::uint64_t statOf(GstElement* element, const char* field);

/// The writer's PTS that shmframesrc attached to \a buffer, if any.
std::optional<std::uint64_t> writerPtsOf(GstBuffer* buffer);

/// The pixel format name in \a caps ("RGBA"), and its size.
std::string formatNameOf(GstCaps* caps);
int widthOf(GstCaps* caps);
int heightOf(GstCaps* caps);

/**
 * Compares the visible rows of every plane of \a buffer (read through its
 * GstVideoMeta, if any) with a frame in \a layout whose bytes are \a frameBytes.
 * Returns "" when equal, else where they first differ.
 */
std::string comparePlanes(GstBuffer* buffer, GstCaps* caps, const Format& layout,
                          std::span<const std::byte> frameBytes);

/// The writer frame the test peer and our writers publish for \a seed (fillPattern).
std::vector<std::byte> patternFrame(const Format& format, std::uint64_t seed);

/// Buffers (with their caps) of a pipeline ending in "appsink name=out", until EOS.
std::vector<GstSample*> collectSamples(const std::string& description, std::size_t count);

}  // namespace shmframe::gsttest
