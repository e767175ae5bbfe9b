// SPDX-License-Identifier: LGPL-2.1-or-later
#include <gst/gst.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    // The `shmframe serve` children must find the build tree's plugin by themselves,
    // as they do for a user who never set GST_PLUGIN_PATH.
    unsetenv("GST_PLUGIN_PATH");
    signal(SIGPIPE, SIG_IGN);
    gst_init(&argc, &argv);
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
