// SPDX-License-Identifier: LGPL-2.1-or-later
// shmframesrc reading feeds that the C++ API or a separate writer process publishes.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <thread>

#include "gst_test_support.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

// Publishes frame k with fillPattern(seed k) and pts k until stopped.
class Publisher {
  public:
    explicit Publisher(Writer& writer, std::chrono::milliseconds period = 5ms)
        : writer_(writer), thread_([this, period] { run(period); }) {}
    ~Publisher() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) {
            thread_.join();
        }
    }

  private:
    void run(std::chrono::milliseconds period) {
        for (std::uint64_t k = 1; !stop_; ++k) {
            if (auto frame = writer_.loan()) {
                test::fillPattern(frame->bytes(), k);
                FrameMeta meta;
                meta.pts = k;
                [[maybe_unused]] auto published = writer_.publish(std::move(*frame), meta);
            }
            std::this_thread::sleep_for(period);
        }
    }
    Writer& writer_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

Format makeFormat(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height,
                  Fraction rate = {30, 1}) {
    auto format = Format::make(pixelFormat, width, height, rate);
    EXPECT_TRUE(format) << (format ? "" : format.error().message);
    return *format;
}

// The sample's pixels are exactly the writer's frame of the pts it carries.
void expectWriterFrame(GstSample* sample, const Format& layout) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    auto pts = writerPtsOf(buffer);
    ASSERT_TRUE(pts.has_value()) << "no writer PTS on the buffer";
    const auto expected = patternFrame(layout, *pts);
    EXPECT_EQ(comparePlanes(buffer, gst_sample_get_caps(sample), layout, expected), "")
        << "frame with writer pts " << *pts;
}

// Pulls samples until one has \a format (the source may still deliver older ones).
GstSample* pullUntilFormat(GstElement* appsink, const std::string& format, int width,
                           int maxSamples = 2000) {
    for (int i = 0; i < maxSamples; ++i) {
        GstSample* sample = pullSample(appsink);
        if (!sample) {
            return nullptr;
        }
        GstCaps* caps = gst_sample_get_caps(sample);
        if (formatNameOf(caps) == format && widthOf(caps) == width) {
            return sample;
        }
        gst_sample_unref(sample);
    }
    return nullptr;
}

class SourceNegotiation : public ::testing::TestWithParam<PixelFormat> {};

TEST_P(SourceNegotiation, SourceTakesItsCapsFromTheFeedAndDeliversExactPixels) {
    test::TempFeedDir dir;
    const Format format = makeFormat(GetParam(), 64, 48);
    // Zero copies however the threads are scheduled: the appsink queues at most one
    // sample and blocks the source, so at most three frames are held (ours, the queued
    // one, the one being pushed), within the lease limit.
    WriterOptions options;
    options.slotCount = 8;
    options.leaseLimit = 4;
    auto writer = Writer::create("neg", format, options);
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer);

    Pipeline pipeline("shmframesrc feed=neg name=src ! appsink name=out sync=false max-buffers=1");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    for (int i = 0; i < 3; ++i) {
        GstSample* sample = pullSample(out);
        ASSERT_NE(sample, nullptr) << "no frame from the feed";
        GstCaps* caps = gst_sample_get_caps(sample);
        EXPECT_EQ(formatNameOf(caps), std::string(toString(GetParam())));
        EXPECT_EQ(widthOf(caps), 64);
        EXPECT_EQ(heightOf(caps), 48);
        int num = 0;
        int den = 0;
        gst_structure_get_fraction(gst_caps_get_structure(caps, 0), "framerate", &num, &den);
        EXPECT_EQ(num, 30);
        EXPECT_EQ(den, 1);
        expectWriterFrame(sample, format);
        gst_sample_unref(sample);
    }
    EXPECT_EQ(statOf(pipeline.element("src"), "copies"), 0u);
}

std::string formatName(const ::testing::TestParamInfo<PixelFormat>& info) {
    return std::string(toString(info.param));
}

INSTANTIATE_TEST_SUITE_P(EveryFormat, SourceNegotiation, ::testing::ValuesIn(allPixelFormats()),
                         formatName);

TEST(ShmFrameSrc, SourceRenegotiatesWhenTheWriterChangesFormat) {
    test::TempFeedDir dir;
    const Format first = makeFormat(PixelFormat::RGBA, 64, 48);
    const Format second = makeFormat(PixelFormat::NV12, 32, 16);
    auto writer = Writer::create("change", first);
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer);

    Pipeline pipeline("shmframesrc feed=change name=src ! appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    GstSample* sample = pullUntilFormat(out, "RGBA", 64);
    ASSERT_NE(sample, nullptr);
    expectWriterFrame(sample, first);
    gst_sample_unref(sample);

    ASSERT_TRUE(writer->reconfigure(second));
    sample = pullUntilFormat(out, "NV12", 32);
    ASSERT_NE(sample, nullptr) << "the source never renegotiated to NV12 32x16";
    EXPECT_EQ(heightOf(gst_sample_get_caps(sample)), 16);
    expectWriterFrame(sample, second);
    gst_sample_unref(sample);
    EXPECT_GE(statOf(pipeline.element("src"), "format-changes"), 1u);
}

TEST(ShmFrameSrc, SourceReconnectsAndRenegotiatesAfterTheWriterIsKilled) {
    test::TempFeedDir dir;
    auto first = test::Child::spawn(
        test::peerProgram(),
        {"writer", "restart", "--format", "RGBA", "--size", "64x48", "--fps", "100"}, true);
    Pipeline pipeline(
        "shmframesrc feed=restart name=src ! appsink name=out sync=false "
        "max-buffers=2 drop=true");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    GstSample* sample = pullUntilFormat(out, "RGBA", 64);
    ASSERT_NE(sample, nullptr) << "no frame from the first writer";
    expectWriterFrame(sample, makeFormat(PixelFormat::RGBA, 64, 48, {100, 1}));
    gst_sample_unref(sample);

    first.kill();  // SIGKILL: no goodbye, no end of stream
    auto second = test::Child::spawn(
        test::peerProgram(),
        {"writer", "restart", "--format", "BGR", "--size", "32x16", "--fps", "100"}, true);
    sample = pullUntilFormat(out, "BGR", 32);
    ASSERT_NE(sample, nullptr) << "no frame from the restarted writer";
    expectWriterFrame(sample, makeFormat(PixelFormat::BGR, 32, 16, {100, 1}));
    EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(gst_sample_get_buffer(sample), GST_BUFFER_FLAG_DISCONT) ||
                statOf(pipeline.element("src"), "reconnects") >= 1);
    gst_sample_unref(sample);

    GstElement* src = pipeline.element("src");
    EXPECT_GE(statOf(src, "writer-gone"), 1u);
    EXPECT_GE(statOf(src, "reconnects"), 1u);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR, 0ms);
    EXPECT_EQ(error, nullptr) << (error ? messageText(error) : "");
    if (error) {
        gst_message_unref(error);
    }
}

TEST(ShmFrameSrc, SourceWithoutReconnectReportsThatTheWriterWentAway) {
    test::TempFeedDir dir;
    auto writer = test::Child::spawn(test::peerProgram(), {"writer", "gone", "--fps", "100"}, true);
    Pipeline pipeline(
        "shmframesrc feed=gone reconnect=false ! appsink name=out sync=false "
        "max-buffers=2 drop=true");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstSample* sample = pullSample(out);
    ASSERT_NE(sample, nullptr);
    gst_sample_unref(sample);
    writer.kill();
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr) << "no error after the writer died";
    EXPECT_NE(messageText(error).find("The writer of feed 'gone' went away"), std::string::npos)
        << messageText(error);
    gst_message_unref(error);
}

class SourceTimestamps : public ::testing::Test {
  protected:
    static constexpr std::uint64_t kFramePeriod = 40 * GST_MSECOND;

    // Publishes \a count frames with pts k * 40 ms to a lossless writer once the
    // source is connected, then ends the stream.
    void publishFrames(Writer& writer, int count) {
        ASSERT_TRUE(test::waitUntil([&] { return writer.stats().readers == 1; }, 20s))
            << "the source never connected";
        for (int k = 0; k < count; ++k) {
            auto frame = writer.loan();
            ASSERT_TRUE(frame) << frame.error().message;
            test::fillPattern(frame->bytes(), std::uint64_t(k) * kFramePeriod);
            FrameMeta meta;
            meta.pts = std::uint64_t(k) * kFramePeriod;
            meta.duration = kFramePeriod;
            ASSERT_TRUE(writer.publish(std::move(*frame), meta));
        }
        ASSERT_TRUE(writer.endOfStream());
    }

    Result<Writer> losslessWriter(const char* feed) {
        WriterOptions options;
        options.policy = WriterPolicy::Lossless;
        options.losslessTimeout = std::chrono::milliseconds(20000);
        return Writer::create(feed, makeFormat(PixelFormat::RGBA, 64, 48), options);
    }
};

TEST_F(SourceTimestamps, PublishTimeStampsCarryWriterPtsSequenceAndEndOfStream) {
    test::TempFeedDir dir;
    auto writer = losslessWriter("ts");
    ASSERT_TRUE(writer) << writer.error().message;
    Pipeline pipeline("shmframesrc feed=ts mode=sequential name=src ! appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    publishFrames(*writer, 10);

    GstClockTime previous = 0;
    for (int k = 0; k < 10; ++k) {
        GstSample* sample = pullSample(out);
        ASSERT_NE(sample, nullptr) << "frame " << k << " missing";
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        ASSERT_EQ(writerPtsOf(buffer), std::optional<std::uint64_t>(k * kFramePeriod));
        EXPECT_EQ(GST_BUFFER_OFFSET(buffer), std::uint64_t(k + 1)) << "sequence number";
        EXPECT_EQ(GST_BUFFER_DURATION(buffer), kFramePeriod);
        ASSERT_TRUE(GST_BUFFER_PTS_IS_VALID(buffer));
        EXPECT_GE(GST_BUFFER_PTS(buffer), previous) << "running time went backwards";
        previous = GST_BUFFER_PTS(buffer);
        expectWriterFrame(sample, writer->format());
        gst_sample_unref(sample);
    }
    EXPECT_EQ(pullSample(out, 20s), nullptr);
    EXPECT_TRUE(gst_app_sink_is_eos(GST_APP_SINK(out)));
    GstMessage* eos = pipeline.waitMessage(GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ASSERT_NE(eos, nullptr);
    EXPECT_EQ(GST_MESSAGE_TYPE(eos), GST_MESSAGE_EOS) << messageText(eos);
    gst_message_unref(eos);
}

TEST_F(SourceTimestamps, WriterPtsModeKeepsTheWritersFrameSpacing) {
    test::TempFeedDir dir;
    auto writer = losslessWriter("wpts");
    ASSERT_TRUE(writer) << writer.error().message;
    Pipeline pipeline(
        "shmframesrc feed=wpts mode=sequential timestamp-mode=writer-pts ! "
        "appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    publishFrames(*writer, 10);

    GstClockTime first = GST_CLOCK_TIME_NONE;
    for (int k = 0; k < 10; ++k) {
        GstSample* sample = pullSample(out);
        ASSERT_NE(sample, nullptr);
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        ASSERT_TRUE(GST_BUFFER_PTS_IS_VALID(buffer));
        if (k == 0) {
            first = GST_BUFFER_PTS(buffer);
        }
        EXPECT_EQ(GST_BUFFER_PTS(buffer) - first, std::uint64_t(k) * kFramePeriod);
        gst_sample_unref(sample);
    }
}

TEST_F(SourceTimestamps, DoTimestampStampsBuffersWithThePipelineClock) {
    test::TempFeedDir dir;
    auto writer = losslessWriter("dots");
    ASSERT_TRUE(writer) << writer.error().message;
    Pipeline pipeline(
        "shmframesrc feed=dots mode=sequential do-timestamp=true ! "
        "appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    publishFrames(*writer, 5);
    GstClockTime previous = 0;
    for (int k = 0; k < 5; ++k) {
        GstSample* sample = pullSample(out);
        ASSERT_NE(sample, nullptr);
        GstBuffer* buffer = gst_sample_get_buffer(sample);
        ASSERT_TRUE(GST_BUFFER_PTS_IS_VALID(buffer));
        EXPECT_GE(GST_BUFFER_PTS(buffer), previous);
        previous = GST_BUFFER_PTS(buffer);
        EXPECT_EQ(writerPtsOf(buffer), std::optional<std::uint64_t>(k * kFramePeriod));
        gst_sample_unref(sample);
    }
}

TEST(ShmFrameSrc, APacedSourcePlaysEveryFrameInOrderWithExactPixels) {
    test::TempFeedDir dir;
    const Format format = makeFormat(PixelFormat::RGBA, 64, 48, {50, 1});
    WriterOptions options;
    options.slotCount = 16;  // room for a sequential reader on a busy machine
    auto writer = Writer::create("paced", format, options);
    ASSERT_TRUE(writer) << writer.error().message;
    Pipeline pipeline(
        "shmframesrc feed=paced wait=paced mode=sequential name=src ! appsink name=out "
        "sync=false max-buffers=1");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    gint wait = -1;
    g_object_get(pipeline.element("src"), "wait", &wait, nullptr);
    EXPECT_EQ(wait, static_cast<gint>(WaitMode::Paced));
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Publisher publisher(*writer, 20ms);

    std::optional<std::uint64_t> last;
    for (int i = 0; i < 40; ++i) {
        GstSample* sample = pullSample(pipeline.element("out"));
        ASSERT_NE(sample, nullptr) << "no frame from the feed";
        const auto pts = writerPtsOf(gst_sample_get_buffer(sample));
        ASSERT_TRUE(pts.has_value());
        if (last) {
            EXPECT_EQ(*pts, *last + 1) << "frames out of order or lost";
        }
        last = pts;
        expectWriterFrame(sample, format);
        gst_sample_unref(sample);
    }
    EXPECT_EQ(statOf(pipeline.element("src"), "gaps"), 0u);
    // Stopping interrupts the wait whether it naps, spins or blocks.
    EXPECT_EQ(pipeline.setState(GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
}

TEST(ShmFrameSrc, LatencyQueryReportsALiveSourceOfOneFramePeriod) {
    test::TempFeedDir dir;
    auto writer = Writer::create("latency", makeFormat(PixelFormat::GRAY8, 64, 48, {25, 1}));
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer);
    Pipeline pipeline("shmframesrc feed=latency name=src ! appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstSample* sample = pullSample(out);
    ASSERT_NE(sample, nullptr);
    gst_sample_unref(sample);

    GstQuery* query = gst_query_new_latency();
    GstPad* pad = gst_element_get_static_pad(pipeline.element("src"), "src");
    ASSERT_TRUE(gst_pad_query(pad, query));
    gst_object_unref(pad);
    gboolean live = FALSE;
    GstClockTime min = 0;
    GstClockTime max = 0;
    gst_query_parse_latency(query, &live, &min, &max);
    gst_query_unref(query);
    EXPECT_TRUE(live);
    EXPECT_EQ(min, 40 * GST_MSECOND);
    EXPECT_TRUE(!GST_CLOCK_TIME_IS_VALID(max) || max >= min);
}

TEST(ShmFrameSrc, DownstreamHoldingMoreThanTheLeaseLimitGetsCountedCopies) {
    test::TempFeedDir dir;
    WriterOptions options;
    options.leaseLimit = 2;
    options.slotCount = 6;
    auto writer = Writer::create("hold", makeFormat(PixelFormat::RGBA, 64, 48), options);
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 2ms);
    Pipeline pipeline("shmframesrc feed=hold name=src leases=2 ! appsink name=out sync=false");
    GstElement* out = pipeline.element("out");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);

    std::vector<GstSample*> held;
    for (int k = 0; k < 5; ++k) {
        GstSample* sample = pullSample(out);
        ASSERT_NE(sample, nullptr);
        held.push_back(sample);
    }
    publisher.stop();
    for (GstSample* sample : held) {
        expectWriterFrame(sample, writer->format());
    }
    EXPECT_GE(statOf(pipeline.element("src"), "copies"), 3u)
        << "5 frames held with a lease limit of 2";
    EXPECT_EQ(statOf(pipeline.element("src"), "leases"), 2u);
    for (GstSample* sample : held) {
        gst_sample_unref(sample);
    }
}

TEST(ShmFrameSrc, AQueueAndASlowElementDownstreamReadWithoutCopies) {
    test::TempFeedDir dir;
    WriterOptions options;
    options.slotCount = 16;  // leaves 14 leases for a reader that asks
    auto writer = Writer::create("queued", makeFormat(PixelFormat::RGBA, 64, 48), options);
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 2ms);
    // Downstream holds up to 11 frames: 8 queued, one in identity, fakesink's last
    // sample, one being pushed.
    Pipeline pipeline(
        "shmframesrc feed=queued name=src ! queue max-size-buffers=8 ! "
        "identity sleep-time=20000 ! fakesink sync=false enable-last-sample=true");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_TRUE(
        test::waitUntil([&] { return statOf(pipeline.element("src"), "received") >= 40; }, 60s));
    EXPECT_EQ(statOf(pipeline.element("src"), "copies"), 0u);
    EXPECT_EQ(statOf(pipeline.element("src"), "leases"), 14u);
}

// Nobody sets a property: the sink sizes its pool for readers that queue frames, the
// source asks for as many leases as the writer grants. Downstream holds up to 11 frames
// (8 queued, one in identity, fakesink's last sample, one being pushed) however the
// threads are scheduled, so a busy machine changes nothing.
TEST(ShmFrameSrc, AQueueOfEightAndASlowElementReadADefaultSinksFeedWithoutCopies) {
    test::TempFeedDir dir;
    Pipeline writer(
        "videotestsrc is-live=true ! video/x-raw,format=RGBA,width=320,height=240,"
        "framerate=100/1 ! shmframesink name=sink feed=defaults");
    ASSERT_TRUE(writer.valid()) << writer.parseError();
    ASSERT_NE(writer.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    Pipeline reader(
        "shmframesrc feed=defaults name=src ! queue max-size-buffers=8 ! "
        "identity sleep-time=20000 ! fakesink sync=false");
    ASSERT_TRUE(reader.valid()) << reader.parseError();
    ASSERT_NE(reader.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_TRUE(
        test::waitUntil([&] { return statOf(reader.element("src"), "received") >= 60; }, 60s));
    EXPECT_EQ(statOf(reader.element("src"), "copies"), 0u);
    EXPECT_EQ(statOf(reader.element("src"), "layout-copies"), 0u);
    EXPECT_GE(statOf(reader.element("src"), "leases"), 11u);
    EXPECT_EQ(statOf(writer.element("sink"), "revoked-leases"), 0u);
}

TEST(ShmFrameSrc, BufferHeldPastPipelineTeardownStaysValid) {
    test::TempFeedDir dir;
    const Format format = makeFormat(PixelFormat::I420, 64, 48);
    std::optional<Writer> writer;
    {
        auto created = Writer::create("teardown", format);
        ASSERT_TRUE(created) << created.error().message;
        writer.emplace(std::move(*created));
    }
    auto publisher = std::make_unique<Publisher>(*writer);
    auto pipeline =
        std::make_unique<Pipeline>("shmframesrc feed=teardown ! appsink name=out sync=false");
    GstElement* out = pipeline->element("out");
    ASSERT_NE(pipeline->setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstSample* sample = pullSample(out);
    ASSERT_NE(sample, nullptr);
    GstBuffer* buffer = gst_buffer_ref(gst_sample_get_buffer(sample));
    GstCaps* caps = gst_caps_ref(gst_sample_get_caps(sample));
    gst_sample_unref(sample);

    pipeline.reset();  // element, reader and its socket are gone
    GstSample* afterTeardown = gst_sample_new(buffer, caps, nullptr, nullptr);
    expectWriterFrame(afterTeardown, format);
    gst_sample_unref(afterTeardown);
    publisher.reset();
    writer.reset();  // and the writer too
    GstSample* late = gst_sample_new(buffer, caps, nullptr, nullptr);
    expectWriterFrame(late, format);
    gst_sample_unref(late);
    gst_caps_unref(caps);
    gst_buffer_unref(buffer);  // releases the lease into a pool nobody serves: no crash
}

TEST(ShmFrameSrc, TimeoutPostsAnErrorNamingTheFeedAndTheFeedDirectory) {
    test::TempFeedDir dir;
    Pipeline pipeline("shmframesrc feed=nobody timeout=300000000 ! fakesink");
    ASSERT_NE(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr) << "no error although no writer exists";
    const std::string text = messageText(error);
    EXPECT_NE(text.find("no writer for feed 'nobody' (looked in " + dir.path() + ")"),
              std::string::npos)
        << text;
    gst_message_unref(error);
}

TEST(ShmFrameSrc, InvalidFeedNameFailsTheStateChangeWithAnError) {
    test::TempFeedDir dir;
    Pipeline pipeline("shmframesrc feed=no/such:feed ! fakesink");
    ASSERT_TRUE(pipeline.valid()) << pipeline.parseError();
    EXPECT_EQ(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(messageText(error).find("invalid feed name 'no/such:feed'"), std::string::npos)
        << messageText(error);
    gst_message_unref(error);
}

TEST(ShmFrameSrc, MissingFeedPropertyFailsWithAHint) {
    Pipeline pipeline("shmframesrc ! fakesink");
    EXPECT_EQ(pipeline.setState(GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstMessage* error = pipeline.waitMessage(GST_MESSAGE_ERROR);
    ASSERT_NE(error, nullptr);
    EXPECT_NE(messageText(error).find("feed"), std::string::npos) << messageText(error);
    gst_message_unref(error);
}

}  // namespace
}  // namespace shmframe::gsttest
