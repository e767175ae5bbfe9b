// SPDX-License-Identifier: LGPL-2.1-or-later
// Real upstreams of shmframesink: decoders (media made by Debian's encoders in a
// temporary dir), converters and scalers, at common sizes and an odd one. Those that
// take the sink's pool publish without a copy; the others are copied, and the sink's
// stats say why (docs/gstreamer.md lists which is which, and why, on GStreamer 1.22).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "gst_test_support.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

constexpr int kFrames = 3;

struct Codec {
    const char* name;
    const char* encoder;
    const char* parser;  // "" when none is needed
    const char* decoder;
    bool zeroCopyWithVideoMeta;  // with video-meta=true too, decodes into the slots
};

// By default (video-meta=false) every decoder writes each frame into a slot of the
// sink's pool. With video-meta=true avdec_h264/h265 decode into the slots laid out
// with their padding (GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT), and vp9dec, seeing
// GstVideoMeta, outputs libvpx's own frame buffers, which the sink copies.

const Codec kCodecs[] = {
    {"H264", "x264enc speed-preset=ultrafast tune=zerolatency", "h264parse", "avdec_h264", true},
    {"H265", "x265enc speed-preset=ultrafast tune=zerolatency", "h265parse", "avdec_h265", true},
    {"VP8", "vp8enc deadline=1", "", "vp8dec", true},
    {"VP9", "vp9enc deadline=1 cpu-used=8", "", "vp9dec", false},
    {"JPEG", "jpegenc", "", "jpegdec", true},
};

struct Size {
    int width;
    int height;
};

const Size kSizes[] = {{640, 480}, {1280, 720}, {1920, 1080}, {642, 362}};

std::string sizeName(const Size& size) {
    return std::to_string(size.width) + "x" + std::to_string(size.height);
}

// The first word of each element description that is not installed.
std::string missingOf(std::initializer_list<const char*> descriptions) {
    std::string missing;
    for (const char* description : descriptions) {
        const std::string name = std::string(description).substr(0, std::strcspn(description, " "));
        if (name.empty()) {
            continue;
        }
        GstElementFactory* factory = gst_element_factory_find(name.c_str());
        if (factory) {
            gst_object_unref(factory);
        } else {
            missing += (missing.empty() ? "" : ", ") + name;
        }
    }
    return missing;
}

// Runs \a description to EOS; "" or the error.
std::string runToEos(Pipeline& pipeline) {
    if (!pipeline.valid()) {
        return "parse error: " + pipeline.parseError();
    }
    if (pipeline.setState(GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
        return "does not start";
    }
    GstMessage* done = pipeline.waitMessage(GST_MESSAGE_EOS | GST_MESSAGE_ERROR, 60s);
    if (!done) {
        return "no EOS within 60 s";
    }
    std::string result;
    if (GST_MESSAGE_TYPE(done) == GST_MESSAGE_ERROR) {
        result = messageText(done);
    }
    gst_message_unref(done);
    return result;
}

std::string encode(const Codec& codec, const Size& size, const std::string& file) {
    const std::string parser = *codec.parser ? std::string(" ! ") + codec.parser : "";
    Pipeline pipeline(
        "videotestsrc num-buffers=" + std::to_string(kFrames) +
        " pattern=ball ! video/x-raw,format=I420,width=" + std::to_string(size.width) +
        ",height=" + std::to_string(size.height) + ",framerate=30/1 ! " + codec.encoder + parser +
        " ! matroskamux ! filesink location=" + file);
    return runToEos(pipeline);
}

struct SinkCounters {
    std::uint64_t published = 0;
    std::uint64_t copied = 0;
    std::string copyReason;
};

// Runs a pipeline that ends in "shmframesink name=sink" to EOS and reads its stats.
SinkCounters publishAll(const std::string& description) {
    Pipeline pipeline(description);
    const std::string error = runToEos(pipeline);
    EXPECT_EQ(error, "") << description;
    SinkCounters counters;
    GstElement* sink = pipeline.element("sink");
    if (!sink) {
        ADD_FAILURE() << "no sink in " << description;
        return counters;
    }
    GstStructure* stats = nullptr;
    g_object_get(sink, "stats", &stats, nullptr);
    if (stats) {
        gst_structure_get_uint64(stats, "published", &counters.published);
        gst_structure_get_uint64(stats, "copied", &counters.copied);
        if (const gchar* reason = gst_structure_get_string(stats, "copy-reason")) {
            counters.copyReason = reason;
        }
        gst_structure_free(stats);
    }
    return counters;
}

using DecoderCase = std::tuple<Codec, Size>;

class DecoderToSink : public ::testing::TestWithParam<DecoderCase> {};

TEST_P(DecoderToSink, DecodedFramesArePublishedAndEveryCopyIsExplained) {
    const auto& [codec, size] = GetParam();
    if (const std::string missing =
            missingOf({codec.encoder, codec.parser, codec.decoder, "matroskamux", "decodebin"});
        !missing.empty()) {
        GTEST_SKIP() << "not installed: " << missing;
    }
    test::TempFeedDir dir;
    const std::string file = dir.path() + "/media.mkv";
    ASSERT_EQ(encode(codec, size, file), "");

    const std::string parser = *codec.parser ? std::string(codec.parser) + " ! " : "";
    // The sink's default pool has room for the frames decoders keep (references,
    // frames on their threads).
    const std::string sink = " ! shmframesink name=sink sync=false feed=";
    const SinkCounters direct = publishAll("filesrc location=" + file + " ! matroskademux ! " +
                                           parser + codec.decoder + sink + "direct");
    EXPECT_EQ(direct.published, std::uint64_t{kFrames});
    EXPECT_EQ(direct.copied, 0u) << direct.copyReason;
    // With GstVideoMeta announced, padding decoders decode into the slots themselves.
    const SinkCounters padded =
        publishAll("filesrc location=" + file + " ! matroskademux ! " + parser + codec.decoder +
                   sink + "padded video-meta=true");
    EXPECT_EQ(padded.published, std::uint64_t{kFrames});
    if (codec.zeroCopyWithVideoMeta) {
        EXPECT_EQ(padded.copied, 0u) << padded.copyReason;
    } else {
        // As docs/gstreamer.md says of GStreamer 1.22; a newer one may do better.
        EXPECT_GT(padded.copied, 0u) << "now decodes into the slots: update docs/gstreamer.md";
        EXPECT_NE(padded.copyReason, "") << "a copy must say why";
    }

    if (std::string(codec.name) == "H264") {
        const SinkCounters decodebin =
            publishAll("filesrc location=" + file + " ! decodebin" + sink + "decodebin");
        EXPECT_EQ(decodebin.published, std::uint64_t{kFrames});
        EXPECT_EQ(decodebin.copied, direct.copied) << "decodebin picks " << codec.decoder;
    }
}

std::string decoderCaseName(const ::testing::TestParamInfo<DecoderCase>& info) {
    return std::string(std::get<0>(info.param).name) + "_" + sizeName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(CommonSizes, DecoderToSink,
                         ::testing::Combine(::testing::ValuesIn(kCodecs),
                                            ::testing::ValuesIn(kSizes)),
                         decoderCaseName);

// The visible pixels of a sample, row by row, wherever its planes lie (GstVideoMeta).
std::vector<std::uint8_t> visiblePixels(GstSample* sample) {
    std::vector<std::uint8_t> pixels;
    GstVideoInfo info;
    if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) {
        return pixels;
    }
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample), GST_MAP_READ)) {
        return pixels;
    }
    for (guint plane = 0; plane < GST_VIDEO_FRAME_N_PLANES(&frame); ++plane) {
        const auto* data =
            static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
        const auto stride = static_cast<std::size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane));
        const guint component = plane;  // I420: one component per plane
        const auto rowBytes =
            static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_WIDTH(&frame, component));
        for (gint row = 0; row < GST_VIDEO_FRAME_COMP_HEIGHT(&frame, component); ++row) {
            const std::uint8_t* line = data + static_cast<std::size_t>(row) * stride;
            pixels.insert(pixels.end(), line, line + rowBytes);
        }
    }
    gst_video_frame_unmap(&frame);
    return pixels;
}

class DecoderToReader : public ::testing::TestWithParam<Size> {};

// With video-meta=true the padded layout a decoder asks for travels in the pool's
// Format; shmframesrc describes it with GstVideoMeta (or copies into GStreamer's
// default layout for a downstream without it). Either way a reader sees exactly what
// the decoder made.
TEST_P(DecoderToReader, APaddedDecoderLayoutReachesReadersPixelExact) {
    const Size size = GetParam();
    const Codec& codec = kCodecs[0];
    if (const std::string missing = missingOf({codec.encoder, codec.parser, codec.decoder});
        !missing.empty()) {
        GTEST_SKIP() << "not installed: " << missing;
    }
    test::TempFeedDir dir;
    const std::string file = dir.path() + "/media.mkv";
    ASSERT_EQ(encode(codec, size, file), "");
    const std::string decode =
        "filesrc location=" + file + " ! matroskademux ! h264parse ! avdec_h264";
    std::vector<GstSample*> direct = collectSamples(decode + " ! appsink name=out sync=false",
                                                    static_cast<std::size_t>(kFrames));
    ASSERT_EQ(direct.size(), static_cast<std::size_t>(kFrames));

    Pipeline reader(
        "shmframesrc feed=padded name=src mode=sequential ! appsink name=out "
        "sync=false max-buffers=" +
        std::to_string(kFrames));
    ASSERT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Pipeline writer(decode + " ! shmframesink name=sink sync=false feed=padded video-meta=true");
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    // The reader may join after the first frames: compare those it got, by position
    // from the end (the writer's last frame is the decoder's last).
    std::vector<GstSample*> received;
    while (GstSample* sample = pullSample(reader.element("out"), 10s)) {
        received.push_back(sample);
        if (received.size() == direct.size()) {
            break;
        }
    }
    ASSERT_FALSE(received.empty());
    EXPECT_EQ(statOf(writer.element("sink"), "copied"), 0u);
    const std::size_t skipped = direct.size() - received.size();
    for (std::size_t k = 0; k < received.size(); ++k) {
        const auto expected = visiblePixels(direct[skipped + k]);
        ASSERT_FALSE(expected.empty());
        EXPECT_TRUE(visiblePixels(received[k]) == expected) << "frame " << skipped + k;
    }
    for (GstSample* sample : direct) {
        gst_sample_unref(sample);
    }
    for (GstSample* sample : received) {
        gst_sample_unref(sample);
    }
}

std::string sizeCaseName(const ::testing::TestParamInfo<Size>& info) {
    return sizeName(info.param);
}

INSTANTIATE_TEST_SUITE_P(CommonSizes, DecoderToReader, ::testing::ValuesIn(kSizes), sizeCaseName);

class ConverterToSink : public ::testing::TestWithParam<Size> {};

TEST_P(ConverterToSink, VideoconvertAndVideoscaleWriteIntoTheSinksSlots) {
    const Size size = GetParam();
    test::TempFeedDir dir;  // the sizes run in parallel: each its own feeds
    const std::string caps =
        "width=" + std::to_string(size.width) + ",height=" + std::to_string(size.height);
    const SinkCounters converted = publishAll(
        "videotestsrc num-buffers=" + std::to_string(kFrames) + " ! video/x-raw,format=I420," +
        caps + " ! videoconvert ! video/x-raw,format=RGBA ! shmframesink name=sink feed=convert " +
        "sync=false");
    EXPECT_EQ(converted.published, std::uint64_t{kFrames});
    EXPECT_EQ(converted.copied, 0u) << converted.copyReason;

    const SinkCounters scaled =
        publishAll("videotestsrc num-buffers=" + std::to_string(kFrames) +
                   " ! video/x-raw,format=I420,width=320,height=240 ! videoscale ! video/x-raw," +
                   caps + " ! shmframesink name=sink feed=scale sync=false");
    EXPECT_EQ(scaled.published, std::uint64_t{kFrames});
    EXPECT_EQ(scaled.copied, 0u) << scaled.copyReason;
}

INSTANTIATE_TEST_SUITE_P(CommonSizes, ConverterToSink, ::testing::ValuesIn(kSizes), sizeCaseName);

}  // namespace
}  // namespace shmframe::gsttest
