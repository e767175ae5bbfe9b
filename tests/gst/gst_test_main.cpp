// SPDX-License-Identifier: LGPL-2.1-or-later
// The GStreamer tests use the plugin of this build tree and a registry of their own,
// never the user's ~/.cache/gstreamer-1.0.
#include <gst/gst.h>
#include <gtest/gtest.h>

namespace {

// GStreamer starts with the first test, not for --gtest_list_tests (test discovery).
class GStreamerEnvironment : public ::testing::Environment {
  public:
    void SetUp() override {
        g_setenv("GST_PLUGIN_PATH", SHMFRAME_TEST_PLUGIN_DIR, TRUE);
        g_setenv("GST_REGISTRY", SHMFRAME_TEST_REGISTRY, TRUE);
        gst_init(nullptr, nullptr);
    }
    // Lets GST_TRACERS=leaks report GStreamer objects a test left alive.
    void TearDown() override { gst_deinit(); }
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    ::testing::AddGlobalTestEnvironment(new GStreamerEnvironment);
    return RUN_ALL_TESTS();
}
