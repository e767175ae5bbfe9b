// SPDX-License-Identifier: LGPL-2.1-or-later
// The GStreamer tests use the plugin of this build tree and a registry of their own,
// never the user's ~/.cache/gstreamer-1.0.
#include <gst/gst.h>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
    g_setenv("GST_PLUGIN_PATH", SHMFRAME_TEST_PLUGIN_DIR, TRUE);
    g_setenv("GST_REGISTRY", SHMFRAME_TEST_REGISTRY, TRUE);
    ::testing::InitGoogleTest(&argc, argv);
    gst_init(&argc, &argv);
    return RUN_ALL_TESTS();
}
