// SPDX-License-Identifier: LGPL-2.1-or-later
// What an element (or a pad probe) behind shmframesrc maps is the writer's slot itself:
// one memory of the source's own type spanning the slot, mapped read-only from the
// pool's memfd, whatever the pixel format, also behind a decoder. Nothing here times
// anything: a copy shows as a pointer outside the pool or as a counter.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "gst_test_support.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

constexpr int kFrames = 5;

// The line of /proc/self/maps whose range holds \a address, or "".
std::string mappingOf(const void* address) {
    const auto where = reinterpret_cast<std::uintptr_t>(address);
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::uintptr_t begin = 0;
        std::uintptr_t end = 0;
        char dash = 0;
        std::istringstream fields(line);
        fields >> std::hex >> begin >> dash >> end;
        if (where >= begin && where < end) {
            return line;
        }
    }
    return "";
}

// Checks that mapping all of \a buffer gives the pool's own bytes: one memory of
// shmframesrc's type, gst_buffer_map returning that memory's pointer (no merge, no
// copy), inside a read-only mapping of a memfd (the pool).
void expectSlotInPlace(GstBuffer* buffer) {
    ASSERT_EQ(gst_buffer_n_memory(buffer), 1u) << "a buffer of several memories is merged "
                                                  "(copied) by gst_buffer_map";
    GstMemory* memory = gst_buffer_peek_memory(buffer, 0);
    EXPECT_TRUE(gst_memory_is_type(memory, "ShmframeFrame"))
        << "memory type " << (memory->allocator ? memory->allocator->mem_type : "(none)");
    GstMapInfo whole;
    ASSERT_TRUE(gst_buffer_map(buffer, &whole, GST_MAP_READ));
    GstMapInfo own;
    ASSERT_TRUE(gst_memory_map(memory, &own, GST_MAP_READ));
    EXPECT_EQ(whole.data, own.data) << "gst_buffer_map did not hand out the memory itself";
    const std::string mapping = mappingOf(whole.data);
    EXPECT_NE(mapping.find("/memfd:"), std::string::npos) << "not in the pool: " << mapping;
    EXPECT_EQ(mapping.find("rw"), std::string::npos) << "a writable mapping: " << mapping;
    gst_memory_unmap(memory, &own);
    gst_buffer_unmap(buffer, &whole);
}

// Answers the allocation query of \a appsink with GstVideoMeta support (appsink in
// GStreamer 1.22 does not, so an application that reads GstVideoMeta says so itself).
GstPadProbeReturn announceVideoMeta(GstPad*, GstPadProbeInfo* info, gpointer) {
    GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION) {
        return GST_PAD_PROBE_OK;
    }
    gst_query_add_allocation_meta(query, GST_VIDEO_META_API_TYPE, nullptr);
    return GST_PAD_PROBE_HANDLED;
}

void addVideoMetaAnswer(GstElement* appsink) {
    GstPad* pad = gst_element_get_static_pad(appsink, "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, announceVideoMeta, nullptr,
                      nullptr);
    gst_object_unref(pad);
}

struct RawCase {
    const char* format;
    int width;
    int height;
};

class SourceBuffers : public ::testing::TestWithParam<RawCase> {};

// The pair as a harness measures it: frames published by shmframesink, read behind
// shmframesrc by an element that knows nothing of GstVideoMeta (appsink, a pad probe).
TEST_P(SourceBuffers, MappingAWholeBufferReadsTheWritersSlotInPlace) {
    const RawCase raw = GetParam();
    test::TempFeedDir dir;
    Pipeline reader(
        "shmframesrc feed=raw name=src ! appsink name=out sync=false max-buffers=2 "
        "drop=true");
    ASSERT_TRUE(reader.valid()) << reader.parseError();
    ASSERT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Pipeline writer(std::string("videotestsrc is-live=true ! video/x-raw,format=") + raw.format +
                    ",width=" + std::to_string(raw.width) +
                    ",height=" + std::to_string(raw.height) +
                    ",framerate=30/1 ! shmframesink name=sink feed=raw sync=false");
    ASSERT_TRUE(writer.valid()) << writer.parseError();
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    for (int k = 0; k < kFrames; ++k) {
        GstSample* sample = pullSample(reader.element("out"));
        ASSERT_NE(sample, nullptr) << "frame " << k;
        expectSlotInPlace(gst_sample_get_buffer(sample));
        gst_sample_unref(sample);
    }
    EXPECT_EQ(statOf(reader.element("src"), "copies"), 0u);
    EXPECT_EQ(statOf(reader.element("src"), "layout-copies"), 0u);
    EXPECT_EQ(statOf(writer.element("sink"), "copied"), 0u);
}

std::string rawCaseName(const ::testing::TestParamInfo<RawCase>& info) {
    return std::string(info.param.format) + "_" + std::to_string(info.param.width) + "x" +
           std::to_string(info.param.height);
}

INSTANTIATE_TEST_SUITE_P(Formats, SourceBuffers,
                         ::testing::Values(RawCase{"RGBA", 640, 480}, RawCase{"NV12", 640, 480},
                                           RawCase{"I420", 640, 480}, RawCase{"NV12", 1920, 1080},
                                           RawCase{"I420", 1920, 1080}),
                         rawCaseName);

// Steady streaming allocates no buffer and no memory per frame: buffers downstream
// dropped come back to the source with their memory, which takes the next frame.
TEST(SourceBuffers, BuffersAndTheirMemoryComeBackForLaterFrames) {
    test::TempFeedDir dir;
    Pipeline reader(
        "shmframesrc feed=reuse name=src ! appsink name=out sync=false max-buffers=1 "
        "drop=false");
    ASSERT_TRUE(reader.valid()) << reader.parseError();
    ASSERT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Pipeline writer(
        "videotestsrc is-live=true ! video/x-raw,format=NV12,width=320,height=240,"
        "framerate=60/1 ! shmframesink name=sink feed=reuse sync=false");
    ASSERT_TRUE(writer.valid()) << writer.parseError();
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    // A mark on the memory object itself: a new memory at a freed one's address has none.
    const GQuark mark = g_quark_from_static_string("zero-copy-test-seen");
    bool reused = false;
    for (int k = 0; k < 40 && !reused; ++k) {
        GstSample* sample = pullSample(reader.element("out"));
        ASSERT_NE(sample, nullptr) << "frame " << k;
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        expectSlotInPlace(buffer);
        auto* memory = GST_MINI_OBJECT_CAST(gst_buffer_peek_memory(buffer, 0));
        reused = gst_mini_object_get_qdata(memory, mark) != nullptr;
        gst_mini_object_set_qdata(memory, mark, GINT_TO_POINTER(1), nullptr);
        gst_sample_unref(sample);
    }
    EXPECT_TRUE(reused) << "40 frames, each in a memory of its own";
    EXPECT_EQ(statOf(reader.element("src"), "copies"), 0u);
}

// Decoder output behind the pair. The test encodes a short clip first.
class DecodedBuffers : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* name : {"x264enc", "h264parse", "avdec_h264", "matroskamux"}) {
            GstElementFactory* factory = gst_element_factory_find(name);
            if (!factory) {
                GTEST_SKIP() << "not installed: " << name;
            }
            gst_object_unref(factory);
        }
        file_ = dir_.path() + "/clip.mkv";
        Pipeline encode("videotestsrc num-buffers=" + std::to_string(kFrames) +
                        " pattern=ball ! video/x-raw,format=I420,width=1920,height=1080,"
                        "framerate=30/1 ! x264enc speed-preset=ultrafast tune=zerolatency ! "
                        "h264parse ! matroskamux ! filesink location=" +
                        file_);
        ASSERT_TRUE(encode.valid()) << encode.parseError();
        ASSERT_NE(encode.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
        GstMessage* done = encode.waitMessage(GST_MESSAGE_EOS | GST_MESSAGE_ERROR, 60s);
        ASSERT_NE(done, nullptr);
        const bool eos = GST_MESSAGE_TYPE(done) == GST_MESSAGE_EOS;
        gst_message_unref(done);
        ASSERT_TRUE(eos);
    }

    // Decodes the clip into shmframesink (\a sinkProperties) while a sequential reader
    // takes every frame; returns the buffers' video metas' plane-1 offsets, checking
    // each buffer with expectSlotInPlace.
    std::vector<gsize> readDecoded(const std::string& sinkProperties, bool readerReadsVideoMeta) {
        std::vector<gsize> chromaOffsets;
        Pipeline reader(
            "shmframesrc feed=decoded name=src mode=sequential ! appsink name=out "
            "sync=false max-buffers=" +
            std::to_string(kFrames));
        EXPECT_TRUE(reader.valid()) << reader.parseError();
        if (readerReadsVideoMeta) {
            addVideoMetaAnswer(reader.element("out"));
        }
        EXPECT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
        Pipeline writer("filesrc location=" + file_ +
                        " ! matroskademux ! h264parse ! avdec_h264 ! shmframesink name=sink "
                        "feed=decoded sync=false " +
                        sinkProperties);
        EXPECT_TRUE(writer.valid()) << writer.parseError();
        EXPECT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
        while (GstSample* sample = pullSample(reader.element("out"), 10s)) {
            GstBuffer* buffer = gst_sample_get_buffer(sample);
            if (readerReadsVideoMeta || statOf(reader.element("src"), "layout-copies") == 0) {
                expectSlotInPlace(buffer);
            }
            if (const GstVideoMeta* meta = gst_buffer_get_video_meta(buffer)) {
                chromaOffsets.push_back(meta->offset[1]);
            }
            gst_sample_unref(sample);
            if (chromaOffsets.size() == static_cast<std::size_t>(kFrames)) {
                break;
            }
        }
        EXPECT_FALSE(chromaOffsets.empty());
        EXPECT_EQ(statOf(writer.element("sink"), "copied"), 0u);
        EXPECT_EQ(statOf(reader.element("src"), "copies"), 0u);
        layoutCopies_ = statOf(reader.element("src"), "layout-copies");
        return chromaOffsets;
    }

    test::TempFeedDir dir_;
    std::string file_;
    std::uint64_t layoutCopies_ = 0;
};

// By default a decoder that needs padding (libav: whole macroblocks and more) fills
// default-layout slots, so a reader whose downstream reads no GstVideoMeta gets the
// slot itself, not a copy made on its own latency path.
TEST_F(DecodedBuffers, ADefaultSinksDecodedFramesReachAPlainReaderWithoutACopy) {
    const auto offsets = readDecoded("", false);
    EXPECT_EQ(layoutCopies_, 0u);
    for (const gsize offset : offsets) {
        EXPECT_EQ(offset, gsize{1920} * 1080) << "not GStreamer's default I420 layout";
    }
}

// video-meta=true: the decoder decodes into slots padded as it asks; a reader whose
// downstream reads GstVideoMeta maps them in place, padding and all.
TEST_F(DecodedBuffers, APaddedDecoderLayoutIsMappedInPlaceByAReaderThatReadsVideoMeta) {
    const auto offsets = readDecoded("video-meta=true", true);
    EXPECT_EQ(layoutCopies_, 0u);
    ASSERT_FALSE(offsets.empty());
    EXPECT_GT(offsets.back(), gsize{1920} * 1080) << "the decoder's padding did not reach the pool";
}

}  // namespace
}  // namespace shmframe::gsttest
