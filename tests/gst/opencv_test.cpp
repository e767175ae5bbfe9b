// SPDX-License-Identifier: LGPL-2.1-or-later
// OpenCV's own GStreamer back end drives both elements.
#include <gtest/gtest.h>

#include <atomic>
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>
#include <thread>

#include "gst_test_support.h"
#include "test_support.h"

namespace shmframe::gsttest {
namespace {

bool openCvHasGStreamer() {
    return cv::getBuildInformation().find("GStreamer:                   YES") != std::string::npos;
}

TEST(OpenCv, VideoWriterPublishesAndVideoCaptureReadsThroughTheElements) {
    if (!openCvHasGStreamer()) {
        GTEST_SKIP() << "this OpenCV was built without GStreamer";
    }
    test::TempFeedDir dir;
    const cv::Size size(64, 48);
    cv::VideoWriter writer("appsrc ! videoconvert ! shmframesink feed=cv", cv::CAP_GSTREAMER, 0,
                           30.0, size, true);
    ASSERT_TRUE(writer.isOpened());
    const cv::Scalar color(10, 200, 30);  // BGR
    const cv::Mat image(size, CV_8UC3, color);
    writer.write(image);  // the sink creates the feed with its first caps

    std::atomic<bool> stop{false};
    std::thread feeder([&] {
        while (!stop) {
            writer.write(image);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
    cv::VideoCapture capture("shmframesrc feed=cv ! videoconvert ! appsink", cv::CAP_GSTREAMER);
    ASSERT_TRUE(capture.isOpened());
    cv::Mat frame;
    bool read = false;
    for (int i = 0; i < 20 && !read; ++i) {
        read = capture.read(frame);
    }
    stop = true;
    feeder.join();
    ASSERT_TRUE(read) << "VideoCapture read no frame";
    ASSERT_EQ(frame.size(), size);
    ASSERT_EQ(frame.type(), CV_8UC3);
    EXPECT_EQ(cv::norm(frame, image, cv::NORM_INF), 0.0) << "pixels changed on the way";
    capture.release();
    writer.release();
}

}  // namespace
}  // namespace shmframe::gsttest
