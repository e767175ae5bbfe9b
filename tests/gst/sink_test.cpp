// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframesink publishing to readers of the C++ API and to shmframesrc.
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "gst_test_support.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

std::string videoCaps(const std::string& format, int width, int height) {
    return "video/x-raw,format=" + format + ",width=" + std::to_string(width) +
           ",height=" + std::to_string(height) + ",framerate=30/1";
}

// Compares a reader's frame with a reference GstBuffer, row by row in both layouts.
std::string compareWithReference(const Frame& frame, GstSample* reference) {
    GstVideoInfo info;
    gst_video_info_from_caps(&info, gst_sample_get_caps(reference));
    GstVideoFrame expected;
    if (!gst_video_frame_map(&expected, &info, gst_sample_get_buffer(reference), GST_MAP_READ)) {
        return "cannot map the reference";
    }
    std::string result;
    const Format& format = frame.format();
    for (std::uint32_t plane = 0; result.empty() && plane < format.planeCount; ++plane) {
        const auto* want =
            static_cast<const std::byte*>(GST_VIDEO_FRAME_PLANE_DATA(&expected, plane));
        const auto wantStride =
            static_cast<std::size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(&expected, plane));
        const auto got = frame.plane(plane);
        for (std::uint32_t row = 0; row < format.planeRows(plane); ++row) {
            const std::size_t at = std::size_t{row} * format.planes[plane].stride;
            if (at + format.rowBytes(plane) > got.size() ||
                std::memcmp(got.data() + at, want + row * wantStride, format.rowBytes(plane)) !=
                    0) {
                result =
                    "plane " + std::to_string(plane) + " row " + std::to_string(row) + " differs";
                break;
            }
        }
    }
    gst_video_frame_unmap(&expected);
    return result;
}

// A sequential reader gets a frame like each of \a reference, in order, then the end.
void readsEveryReferenceFrameThenTheEnd(Reader& reader, const std::vector<GstSample*>& reference) {
    for (std::size_t k = 0; k < reference.size(); ++k) {
        auto frame = reader.next(20s);
        ASSERT_TRUE(frame) << "frame " << k << ": " << frame.error().message;
        EXPECT_EQ(compareWithReference(*frame, reference[k]), "") << "frame " << k;
    }
    auto end = reader.next(20s);
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().code, Errc::EndOfStream) << end.error().message;
}

// Whether two samples of the same caps show the same pixels (each through its own
// layout: a pool's buffer may be padded where another is not).
bool sameVisiblePixels(GstSample* a, GstSample* b) {
    GstVideoInfo infoA, infoB;
    gst_video_info_from_caps(&infoA, gst_sample_get_caps(a));
    gst_video_info_from_caps(&infoB, gst_sample_get_caps(b));
    GstVideoFrame frameA, frameB;
    if (!gst_video_frame_map(&frameA, &infoA, gst_sample_get_buffer(a), GST_MAP_READ)) {
        return false;
    }
    if (!gst_video_frame_map(&frameB, &infoB, gst_sample_get_buffer(b), GST_MAP_READ)) {
        gst_video_frame_unmap(&frameA);
        return false;
    }
    bool same = GST_VIDEO_INFO_N_PLANES(&infoA) == GST_VIDEO_INFO_N_PLANES(&infoB);
    for (guint plane = 0; same && plane < GST_VIDEO_INFO_N_PLANES(&infoA); ++plane) {
        const auto rowBytes =
            static_cast<std::size_t>(GST_VIDEO_FRAME_COMP_WIDTH(&frameA, plane) *
                                     GST_VIDEO_FRAME_COMP_PSTRIDE(&frameA, plane));
        for (gint row = 0; same && row < GST_VIDEO_FRAME_COMP_HEIGHT(&frameA, plane); ++row) {
            const auto* rowA =
                static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frameA, plane)) +
                row * GST_VIDEO_FRAME_PLANE_STRIDE(&frameA, plane);
            const auto* rowB =
                static_cast<const guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&frameB, plane)) +
                row * GST_VIDEO_FRAME_PLANE_STRIDE(&frameB, plane);
            same = std::memcmp(rowA, rowB, rowBytes) == 0;
        }
    }
    gst_video_frame_unmap(&frameB);
    gst_video_frame_unmap(&frameA);
    return same;
}

// Prerolls \a pipeline (the sink creates the feed on its first caps but publishes
// nothing yet) and connects \a reader, so the reader sees the first frame too.
void connectBeforeFirstFrame(Pipeline& pipeline, Reader& reader) {
    ASSERT_NE(pipeline.setState(GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstMessage* prerolled = pipeline.waitMessage(GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR);
    ASSERT_NE(prerolled, nullptr);
    ASSERT_EQ(GST_MESSAGE_TYPE(prerolled), GST_MESSAGE_ASYNC_DONE) << messageText(prerolled);
    gst_message_unref(prerolled);
    ASSERT_TRUE(test::waitUntil(
        [&] {
            auto frame = reader.next(10ms);
            EXPECT_TRUE(!frame) << "a frame was published before PLAYING";
            return reader.state() == ReaderState::Connected;
        },
        20s));
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
}

TEST(ShmFrameSink, VideotestsrcFramesArePublishedWithoutCopyingAPixel) {
    test::TempFeedDir dir;
    Pipeline pipeline("videotestsrc num-buffers=30 ! " + videoCaps("RGBA", 320, 240) +
                      " ! shmframesink name=sink feed=zero sync=false");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* done = pipeline.waitMessage(GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ASSERT_NE(done, nullptr);
    ASSERT_EQ(GST_MESSAGE_TYPE(done), GST_MESSAGE_EOS) << messageText(done);
    gst_message_unref(done);
    GstElement* sink = pipeline.element("sink");
    EXPECT_EQ(statOf(sink, "published"), 30u);
    EXPECT_EQ(statOf(sink, "copied"), 0u);
    EXPECT_EQ(statOf(sink, "drops"), 0u);
}

// An in-place transform behind a tee: the tee hands the same buffer (from the sink's
// pool) to two branches, so videobalance must make it writable before it changes the
// pixels. Whatever the slot allocator answers to that copy, readers see the transformed
// frame, pixel-exact, and the other branch's frame is left alone.
TEST(ShmFrameSink, AnInPlaceTransformBehindATeePublishesItsOwnPixels) {
    test::TempFeedDir dir;
    const std::string source = "videotestsrc pattern=ball num-buffers=12 ! " +
                               videoCaps("NV12", 64, 48) + " ! tee name=t ! queue ! ";
    const std::string transform = "videobalance saturation=0.2 hue=0.3 brightness=0.1";
    std::vector<GstSample*> reference =
        collectSamples("videotestsrc pattern=ball num-buffers=12 ! " + videoCaps("NV12", 64, 48) +
                           " ! " + transform + " ! appsink name=out sync=false",
                       12);
    ASSERT_EQ(reference.size(), 12u);
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    options.waitForWriter = true;
    auto reader = Reader::open("inplace", options);
    ASSERT_TRUE(reader) << reader.error().message;
    // The other branch holds its buffers (appsink keeps them all), so the tee's buffer
    // is shared for as long as the transform runs.
    Pipeline pipeline(source + transform +
                      " ! shmframesink name=sink feed=inplace policy=lossless sync=false "
                      "t. ! queue ! appsink name=other sync=false max-buffers=0");
    connectBeforeFirstFrame(pipeline, *reader);
    readsEveryReferenceFrameThenTheEnd(*reader, reference);
    EXPECT_EQ(statOf(pipeline.element("sink"), "published"), 12u);
    // The tee does not offer the sink's pool upstream (two branches): every frame is
    // copied into a slot, and counted.
    EXPECT_EQ(statOf(pipeline.element("sink"), "copied"), 12u);
    // The untransformed branch still has the original colours: the transform did not
    // write through the shared slot.
    std::vector<GstSample*> original =
        collectSamples("videotestsrc pattern=ball num-buffers=12 ! " + videoCaps("NV12", 64, 48) +
                           " ! appsink name=out sync=false",
                       12);
    ASSERT_EQ(original.size(), 12u);
    for (std::size_t k = 0; k < original.size(); ++k) {
        GstSample* kept = gst_app_sink_pull_sample(GST_APP_SINK(pipeline.element("other")));
        ASSERT_NE(kept, nullptr) << "frame " << k;
        EXPECT_TRUE(sameVisiblePixels(original[k], kept))
            << "the tee's other branch saw the transformed pixels in frame " << k;
        gst_sample_unref(kept);
        gst_sample_unref(original[k]);
    }
    for (GstSample* sample : reference) {
        gst_sample_unref(sample);
    }
}

// An in-place transform behind a decoder: the decoder's pictures land in the sink's
// slots (decoded there with video-meta=true, copied there by libav without) and it
// keeps reference frames, so videobalance may get a buffer it must make writable. The
// slot allocator answers that copy with a copy-on-write alias; the transform's writes
// must land in a private copy, never in the decoder's reference frame: every later
// frame decodes, and is transformed, exactly as without shmframe.
class InPlaceBehindADecoder : public ::testing::TestWithParam<const char*> {};

TEST_P(InPlaceBehindADecoder, LeavesTheDecodersReferenceFramesAlone) {
    test::TempFeedDir dir;
    const std::string decoded = "videotestsrc pattern=ball num-buffers=20 ! " +
                                videoCaps("I420", 320, 240) +
                                " ! x264enc threads=1 key-int-max=30 speed-preset=ultrafast "
                                "! h264parse ! avdec_h264 max-threads=1 ! "
                                "videobalance saturation=0.2 hue=0.3 brightness=0.1";
    std::vector<GstSample*> reference =
        collectSamples(decoded + " ! appsink name=out sync=false", 20);
    ASSERT_EQ(reference.size(), 20u);
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    options.waitForWriter = true;
    auto reader = Reader::open("decoded", options);
    ASSERT_TRUE(reader) << reader.error().message;
    Pipeline pipeline(decoded + " ! shmframesink name=sink feed=decoded policy=lossless " +
                      "sync=false " + GetParam());
    connectBeforeFirstFrame(pipeline, *reader);
    readsEveryReferenceFrameThenTheEnd(*reader, reference);
    EXPECT_EQ(statOf(pipeline.element("sink"), "published"), 20u);
    for (GstSample* sample : reference) {
        gst_sample_unref(sample);
    }
}

std::string videoMetaCase(const ::testing::TestParamInfo<const char*>& param) {
    return std::string(param.param) == "video-meta=true" ? "Announced" : "Default";
}

INSTANTIATE_TEST_SUITE_P(VideoMeta, InPlaceBehindADecoder,
                         ::testing::Values("video-meta=false", "video-meta=true"), videoMetaCase);

class SinkToReader : public ::testing::TestWithParam<PixelFormat> {};

// Every frame reaches a C++ reader pixel-exact, with its PTS and duration, then EOS.
TEST_P(SinkToReader, ReaderSeesEveryFramePixelExactWithTimestampsThenEndOfStream) {
    test::TempFeedDir dir;
    const std::string format(toString(GetParam()));
    const std::string source =
        "videotestsrc pattern=ball num-buffers=8 ! " + videoCaps(format, 64, 48);
    std::vector<GstSample*> reference =
        collectSamples(source + " ! appsink name=out sync=false", 8);
    ASSERT_EQ(reference.size(), 8u);

    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    options.waitForWriter = true;
    auto reader = Reader::open("exact", options);
    ASSERT_TRUE(reader) << reader.error().message;

    Pipeline pipeline(source + " ! shmframesink name=sink feed=exact policy=lossless sync=false");
    connectBeforeFirstFrame(pipeline, *reader);
    for (std::size_t k = 0; k < reference.size(); ++k) {
        auto frame = reader->next(20s);
        ASSERT_TRUE(frame) << "frame " << k << ": " << frame.error().message;
        EXPECT_EQ(frame->format().pixelFormat, GetParam());
        EXPECT_EQ(frame->format().width, 64u);
        EXPECT_FALSE(frame->format().caps.empty()) << "the caps string should travel";
        GstBuffer* expected = gst_sample_get_buffer(reference[k]);
        EXPECT_EQ(frame->meta().pts, GST_BUFFER_PTS(expected)) << "frame " << k;
        EXPECT_EQ(frame->meta().duration, GST_BUFFER_DURATION(expected));
        EXPECT_EQ(compareWithReference(*frame, reference[k]), "") << "frame " << k;
    }
    auto end = reader->next(20s);
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().code, Errc::EndOfStream) << end.error().message;
    EXPECT_EQ(statOf(pipeline.element("sink"), "copied"), 0u);
    for (GstSample* sample : reference) {
        gst_sample_unref(sample);
    }
}

std::string formatName(const ::testing::TestParamInfo<PixelFormat>& info) {
    return std::string(toString(info.param));
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, SinkToReader, ::testing::ValuesIn(allPixelFormats()),
                         formatName);

class SinkToSource : public ::testing::TestWithParam<PixelFormat> {};

// The caps the sink negotiated come out of shmframesrc unchanged; no capsfilter needed.
TEST_P(SinkToSource, SourceNegotiatesTheSinksCapsWithoutACapsfilter) {
    test::TempFeedDir dir;
    const std::string format(toString(GetParam()));
    Pipeline writer("videotestsrc is-live=true ! " + videoCaps(format, 64, 48) +
                    " ! shmframesink name=sink feed=pair");
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Pipeline reader("shmframesrc feed=pair ! appsink name=out sync=false");
    ASSERT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstSample* sample = pullSample(reader.element("out"));
    ASSERT_NE(sample, nullptr);

    GstPad* sinkPad = gst_element_get_static_pad(writer.element("sink"), "sink");
    GstCaps* sent = gst_pad_get_current_caps(sinkPad);
    gst_object_unref(sinkPad);
    ASSERT_NE(sent, nullptr);
    EXPECT_TRUE(gst_caps_is_equal(sent, gst_sample_get_caps(sample)))
        << "sent " << gst_caps_to_string(sent) << "\nreceived "
        << gst_caps_to_string(gst_sample_get_caps(sample));
    gst_caps_unref(sent);
    gst_sample_unref(sample);
    EXPECT_EQ(statOf(writer.element("sink"), "copied"), 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, SinkToSource, ::testing::ValuesIn(allPixelFormats()),
                         formatName);

TEST(ShmFrameSink, BuffersFromOutsideThePoolAreCopiedAndCounted) {
    test::TempFeedDir dir;
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    options.waitForWriter = true;
    auto reader = Reader::open("copy", options);
    ASSERT_TRUE(reader) << reader.error().message;

    Pipeline pipeline("appsrc name=src format=time caps=" + videoCaps("GRAY8", 64, 48) +
                      " ! shmframesink name=sink feed=copy policy=lossless sync=false");
    GstElement* src = pipeline.element("src");
    for (int k = 0; k < 5; ++k) {
        GstBuffer* buffer = gst_buffer_new_allocate(nullptr, 64 * 48, nullptr);
        gst_buffer_memset(buffer, 0, static_cast<guint8>(10 + k), 64 * 48);
        GST_BUFFER_PTS(buffer) = k * 10 * GST_MSECOND;
        ASSERT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src), buffer), GST_FLOW_OK);
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src));
    connectBeforeFirstFrame(pipeline, *reader);
    for (int k = 0; k < 5; ++k) {
        auto frame = reader->next(20s);
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_EQ(frame->meta().pts, k * 10 * GST_MSECOND);
        const auto plane = frame->plane(0);
        EXPECT_EQ(std::to_integer<int>(plane[0]), 10 + k);
        EXPECT_EQ(std::to_integer<int>(plane[plane.size() - 1]), 10 + k);
    }
    GstMessage* done = pipeline.waitMessage(GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ASSERT_NE(done, nullptr);
    gst_message_unref(done);
    GstElement* sink = pipeline.element("sink");
    EXPECT_EQ(statOf(sink, "copied"), 5u);
    EXPECT_EQ(statOf(sink, "published"), 5u);
}

TEST(ShmFrameSink, CapsChangeMovesReadersToTheNewFormat) {
    test::TempFeedDir dir;
    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("caps", options);
    ASSERT_TRUE(reader) << reader.error().message;
    Pipeline pipeline("videotestsrc is-live=true ! capsfilter name=filter caps=" +
                      videoCaps("RGBA", 64, 48) + " ! shmframesink name=sink feed=caps");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    auto frameWithFormat = [&](PixelFormat format, std::uint32_t width) -> bool {
        for (int i = 0; i < 500; ++i) {
            auto frame = reader->next(20s);
            if (!frame) {
                continue;
            }
            if (frame->format().pixelFormat == format && frame->format().width == width) {
                return true;
            }
        }
        return false;
    };
    ASSERT_TRUE(frameWithFormat(PixelFormat::RGBA, 64));
    GstCaps* caps = gst_caps_from_string(videoCaps("NV12", 32, 16).c_str());
    g_object_set(pipeline.element("filter"), "caps", caps, nullptr);
    gst_caps_unref(caps);
    ASSERT_TRUE(frameWithFormat(PixelFormat::NV12, 32)) << "the reader never saw NV12 32x16";
    GstElement* sink = pipeline.element("sink");
    EXPECT_GE(statOf(sink, "generation"), 2u);
    EXPECT_EQ(statOf(sink, "copied"), 0u) << "upstream should use the new generation's pool";
}

TEST(ShmFrameSink, SignalsTellWhenReadersConnectAndDisconnect) {
    test::TempFeedDir dir;
    Pipeline pipeline("videotestsrc is-live=true ! " + videoCaps("GRAY8", 64, 48) +
                      " ! shmframesink name=sink feed=signals");
    GstElement* sink = pipeline.element("sink");
    struct Counts {
        std::atomic<int> connected{0};
        std::atomic<int> disconnected{0};
        std::atomic<int> lastPid{0};
    } counts;
    g_signal_connect(sink, "reader-connected",
                     G_CALLBACK(+[](GstElement*, guint, gint pid, guint, gpointer data) {
                         auto* c = static_cast<Counts*>(data);
                         c->lastPid = pid;
                         c->connected++;
                     }),
                     &counts);
    g_signal_connect(
        sink, "reader-disconnected",
        G_CALLBACK(+[](GstElement* element, guint, gint, guint, const gchar*, gpointer data) {
            // Handlers may call back into the element.
            GstStructure* stats = nullptr;
            g_object_get(element, "stats", &stats, nullptr);
            gst_structure_free(stats);
            static_cast<Counts*>(data)->disconnected++;
        }),
        &counts);
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    {
        ReaderOptions options;
        options.waitForWriter = true;
        auto reader = Reader::open("signals", options);
        ASSERT_TRUE(reader) << reader.error().message;
        ASSERT_TRUE(reader->next(20s));
        ASSERT_TRUE(test::waitUntil([&] { return counts.connected == 1; }, 20s));
        EXPECT_EQ(counts.lastPid, static_cast<int>(getpid()));
        EXPECT_EQ(statOf(sink, "readers"), 1u);
    }
    ASSERT_TRUE(test::waitUntil([&] { return counts.disconnected == 1; }, 20s));
    pipeline.reset();
}

TEST(ShmFrameSink, InvalidFeedNameFailsTheStateChangeWithAnError) {
    test::TempFeedDir dir;
    Pipeline pipeline("videotestsrc ! shmframesink feed=../escape");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    EXPECT_EQ(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(messageText(error).find("invalid feed name '../escape'"), std::string::npos)
        << messageText(error);
    gst_message_unref(error);
}

TEST(ShmFrameSink, FeedOwnedByAnotherWriterIsReportedWithItsPid) {
    test::TempFeedDir dir;
    auto format = Format::make(PixelFormat::RGBA, 64, 48);
    auto owner = Writer::create("taken", *format);
    ASSERT_TRUE(owner) << owner.error().message;
    Pipeline pipeline("videotestsrc ! " + videoCaps("RGBA", 64, 48) + " ! shmframesink feed=taken");
    pipeline.setState(GST_STATE_PLAYING);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr);
    const std::string text = messageText(error);
    EXPECT_NE(text.find("Cannot publish feed 'taken'"), std::string::npos) << text;
    EXPECT_NE(text.find(std::to_string(getpid())), std::string::npos) << text;
    gst_message_unref(error);
}

TEST(ShmFrameSink, AnInvalidAccessPolicyIsRefused) {
    test::TempFeedDir dir;
    Pipeline pipeline("videotestsrc ! shmframesink feed=acl access=everybody");
    EXPECT_EQ(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(messageText(error).find("Invalid access 'everybody'"), std::string::npos)
        << messageText(error);
    gst_message_unref(error);
}

// gst-inspect-1.0 prints each property's blurb; none of ours may be undocumented.
TEST(ShmFramePlugin, EveryPropertyOfBothElementsIsDocumented) {
    for (const char* name : {"shmframesink", "shmframesrc"}) {
        GstElement* element = gst_element_factory_make(name, nullptr);
        ASSERT_NE(element, nullptr) << name << " not found: is GST_PLUGIN_PATH the build tree?";
        guint count = 0;
        GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(element), &count);
        for (guint i = 0; i < count; ++i) {
            const char* blurb = g_param_spec_get_blurb(specs[i]);
            EXPECT_TRUE(blurb && std::strlen(blurb) > 10) << name << "::" << specs[i]->name;
        }
        g_free(specs);
        gst_object_unref(element);
    }
    for (const char* property :
         {"feed", "slots", "policy", "lease-limit", "access", "video-meta", "stats"}) {
        GstElement* sink = gst_element_factory_make("shmframesink", nullptr);
        EXPECT_NE(g_object_class_find_property(G_OBJECT_GET_CLASS(sink), property), nullptr)
            << property;
        gst_object_unref(sink);
    }
    for (const char* property : {"feed", "mode", "reconnect", "timeout", "stats", "do-timestamp"}) {
        GstElement* src = gst_element_factory_make("shmframesrc", nullptr);
        EXPECT_NE(g_object_class_find_property(G_OBJECT_GET_CLASS(src), property), nullptr)
            << property;
        gst_object_unref(src);
    }
}

}  // namespace
}  // namespace shmframe::gsttest
