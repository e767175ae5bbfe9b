// SPDX-License-Identifier: LGPL-2.1-or-later
// How GStreamer applications find feeds without knowing shmframe: the device provider
// (gst-device-monitor-1.0, GstDeviceMonitor) and shmframe:// URIs (playbin,
// uridecodebin, gst-play-1.0).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "gst_test_support.h"
#include "shmframe/shmframe.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

// Publishes frames every few milliseconds until destroyed.
class Publishing {
  public:
    explicit Publishing(Writer& writer)
        : writer_(writer), thread_([this] {
              while (!stop_) {
                  if (auto frame = writer_.loan()) {
                      std::fill(frame->bytes().begin(), frame->bytes().end(), std::byte{0x40});
                      [[maybe_unused]] auto published = writer_.publish(std::move(*frame));
                  }
                  std::this_thread::sleep_for(10ms);
              }
          }) {}
    ~Publishing() {
        stop_ = true;
        thread_.join();
    }

  private:
    Writer& writer_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

Writer makeWriter(const std::string& feed) {
    auto format = Format::make(PixelFormat::RGBA, 64, 48, {30, 1});
    EXPECT_TRUE(format);
    auto writer = Writer::create(feed, *format);
    EXPECT_TRUE(writer) << (writer ? "" : writer.error().message);
    return std::move(*writer);
}

std::string feedOf(GstDevice* device) {
    GstStructure* properties = gst_device_get_properties(device);
    std::string feed;
    if (properties) {
        if (const gchar* value = gst_structure_get_string(properties, "shmframe.feed")) {
            feed = value;
        }
        gst_structure_free(properties);
    }
    return feed;
}

// The next device-added/removed message for \a feed, or nullptr after the deadline.
GstDevice* waitDeviceMessage(GstBus* bus, GstMessageType type, const std::string& feed) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        GstMessage* message = gst_bus_timed_pop_filtered(bus, 100 * GST_MSECOND, type);
        if (!message) {
            continue;
        }
        GstDevice* device = nullptr;
        if (type == GST_MESSAGE_DEVICE_ADDED) {
            gst_message_parse_device_added(message, &device);
        } else {
            gst_message_parse_device_removed(message, &device);
        }
        gst_message_unref(message);
        if (device && feedOf(device) == feed) {
            return device;
        }
        if (device) {
            gst_object_unref(device);
        }
    }
    return nullptr;
}

TEST(Discovery, DeviceMonitorSeesAFeedAppearAndVanish) {
    test::TempFeedDir dir;
    GstDeviceMonitor* monitor = gst_device_monitor_new();
    gst_device_monitor_add_filter(monitor, "Video/Source", nullptr);
    ASSERT_TRUE(gst_device_monitor_start(monitor));
    GstBus* bus = gst_device_monitor_get_bus(monitor);

    auto writer = std::make_optional(makeWriter("devcam"));
    GstDevice* added = waitDeviceMessage(bus, GST_MESSAGE_DEVICE_ADDED, "devcam");
    ASSERT_NE(added, nullptr) << "no device-added message for feed devcam";
    gchar* deviceClass = gst_device_get_device_class(added);
    EXPECT_STREQ(deviceClass, "Video/Source");
    g_free(deviceClass);
    GstCaps* caps = gst_device_get_caps(added);
    ASSERT_NE(caps, nullptr);
    EXPECT_EQ(formatNameOf(caps), "RGBA");
    EXPECT_EQ(widthOf(caps), 64);
    gst_caps_unref(caps);
    GstElement* source = gst_device_create_element(added, "src");
    ASSERT_NE(source, nullptr);
    gchar* feed = nullptr;
    g_object_get(source, "feed", &feed, nullptr);
    EXPECT_STREQ(feed, "devcam");
    EXPECT_STREQ(gst_plugin_feature_get_name(gst_element_get_factory(source)), "shmframesrc");
    g_free(feed);
    gst_object_unref(gst_object_ref_sink(source));
    gst_object_unref(added);

    writer.reset();  // the writer ends: the device goes
    GstDevice* removed = waitDeviceMessage(bus, GST_MESSAGE_DEVICE_REMOVED, "devcam");
    EXPECT_NE(removed, nullptr) << "no device-removed message for feed devcam";
    if (removed) {
        gst_object_unref(removed);
    }
    gst_device_monitor_stop(monitor);
    gst_object_unref(bus);
    gst_object_unref(monitor);
}

TEST(Discovery, DeviceProviderProbeListsTheLiveFeeds) {
    test::TempFeedDir dir;
    Writer writer = makeWriter("probed");
    GstDeviceProvider* provider = gst_device_provider_factory_get_by_name("shmframedeviceprovider");
    ASSERT_NE(provider, nullptr);
    GList* devices = gst_device_provider_get_devices(provider);
    ASSERT_EQ(g_list_length(devices), 1u);
    EXPECT_EQ(feedOf(GST_DEVICE(devices->data)), "probed");
    g_list_free_full(devices, gst_object_unref);
    gst_object_unref(provider);
}

// Counts the buffers a fakesink receives.
void countHandoff(GstElement*, GstBuffer*, GstPad*, gpointer counter) {
    static_cast<std::atomic<int>*>(counter)->fetch_add(1);
}

TEST(Discovery, PlaybinPlaysAShmframeUri) {
    test::TempFeedDir dir;
    Writer writer = makeWriter("uricam");
    Publishing publishing(writer);

    GstElement* playbin = gst_element_factory_make("playbin", nullptr);
    ASSERT_NE(playbin, nullptr);
    GstElement* sink = gst_element_factory_make("fakesink", nullptr);
    std::atomic<int> frames{0};
    g_object_set(sink, "signal-handoffs", TRUE, "sync", FALSE, nullptr);
    g_signal_connect(sink, "handoff", G_CALLBACK(countHandoff), &frames);
    g_object_set(playbin, "uri", "shmframe://uricam", "video-sink", sink, nullptr);
    gst_element_set_state(playbin, GST_STATE_PLAYING);
    GstBus* bus = gst_element_get_bus(playbin);
    const bool played = test::waitUntil(
        [&] {
            if (GstMessage* error = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
                ADD_FAILURE() << messageText(error);
                gst_message_unref(error);
                return true;
            }
            return frames.load() >= 5;
        },
        20s);
    EXPECT_TRUE(played && frames.load() >= 5) << frames.load() << " frames reached the sink";
    gst_element_set_state(playbin, GST_STATE_NULL);
    gst_object_unref(bus);
    gst_object_unref(playbin);
}

TEST(Discovery, UridecodebinOpensAShmframeUri) {
    test::TempFeedDir dir;
    Writer writer = makeWriter("uricam2");
    Publishing publishing(writer);
    auto samples = collectSamples(
        "uridecodebin uri=shmframe://uricam2 ! videoconvert ! video/x-raw,format=RGBA "
        "! appsink name=out sync=false",
        3);
    ASSERT_EQ(samples.size(), 3u);
    EXPECT_EQ(widthOf(gst_sample_get_caps(samples[0])), 64);
    for (GstSample* sample : samples) {
        gst_sample_unref(sample);
    }
}

TEST(Discovery, ShmframeUriNamesTheFeedAndBadUrisAreRefused) {
    GError* error = nullptr;
    GstElement* source = gst_element_make_from_uri(GST_URI_SRC, "shmframe://cam0", nullptr, &error);
    ASSERT_NE(source, nullptr) << (error ? error->message : "");
    gchar* feed = nullptr;
    g_object_get(source, "feed", &feed, nullptr);
    EXPECT_STREQ(feed, "cam0");
    g_free(feed);
    gchar* uri = gst_uri_handler_get_uri(GST_URI_HANDLER(source));
    EXPECT_STREQ(uri, "shmframe://cam0");
    g_free(uri);
    EXPECT_FALSE(gst_uri_handler_set_uri(GST_URI_HANDLER(source), "shmframe://bad name", &error));
    ASSERT_NE(error, nullptr);
    EXPECT_NE(std::string(error->message).find("bad name"), std::string::npos) << error->message;
    g_clear_error(&error);
    EXPECT_FALSE(gst_uri_handler_set_uri(GST_URI_HANDLER(source), "file:///tmp/x", &error));
    g_clear_error(&error);
    gst_object_unref(gst_object_ref_sink(source));
}

}  // namespace
}  // namespace shmframe::gsttest
