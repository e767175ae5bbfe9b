// SPDX-License-Identifier: LGPL-2.1-or-later
// Still images of a feed for the web page: a PNG of the newest frame at full
// resolution (the snapshot button) and a small JPEG (the thumbnails), read from
// the feed itself with a short-lived Reader, never from the video.
#pragma once

#include <opencv2/core.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "shmframe/error.h"
#include "shmframe/reader.h"

namespace shmframe::cli::web {

enum class ImageKind {
    FullPng,       ///< the frame as it is, lossless
    ThumbnailJpeg  ///< at most 320 pixels wide
};

/// The newest frame of \a feed as BGR (or gray), copied out of shared memory.
/// Blocks up to \a timeout: call it off the main thread.
Result<cv::Mat> grabFrame(const std::string& feed, std::chrono::milliseconds timeout);

/// A frame converted to BGR, gray kept as gray; checks that the writer did not take
/// the slot back while it was copied.
Result<cv::Mat> copyFrameImage(const Frame& frame);

/// grabFrame() encoded as \a kind.
Result<std::vector<unsigned char>> grabImage(const std::string& feed, ImageKind kind,
                                             std::chrono::milliseconds timeout);

/// \a image as JPEG; cv::Mat() when it cannot be encoded.
std::vector<unsigned char> encodeJpeg(const cv::Mat& image, int quality);

}  // namespace shmframe::cli::web
