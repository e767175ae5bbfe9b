// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_images.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "shmframe/opencv.h"

namespace shmframe::cli::web {

constexpr int kThumbnailWidth = 320;

Result<cv::Mat> copyFrameImage(const Frame& frame) {
    cv::Mat image;
    try {
        const PixelFormat format = frame.format().pixelFormat;
        if (format == PixelFormat::GRAY8) {
            auto view = matView(frame);
            if (!view) {
                return std::move(view).error();
            }
            image = view->clone();
        } else if (format == PixelFormat::GRAY16_LE) {
            auto view = matView(frame);
            if (!view) {
                return std::move(view).error();
            }
            view->convertTo(image, CV_8U, 1.0 / 256.0);
        } else {
            auto bgr = toBgr(frame);
            if (!bgr) {
                return std::move(bgr).error();
            }
            image = std::move(*bgr);
        }
    } catch (const cv::Exception& e) {
        return Error::make(Errc::InvalidArgument,
                           "could not convert " + frame.format().describe() + ": " + e.what());
    }
    if (!frame.leaseIntact()) {
        return Error::make(Errc::WouldBlock, "the writer took the frame back while it was copied");
    }
    return image;
}

Result<cv::Mat> grabFrame(const std::string& feed, std::chrono::milliseconds timeout) {
    ReaderOptions options;
    options.mode = ReadMode::Latest;
    options.reconnect = false;
    options.clientName = "shmframe web (still image)";
    auto reader = Reader::open(feed, options);
    if (!reader) {
        return std::move(reader).error();
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto frame = reader->next(std::chrono::duration_cast<std::chrono::nanoseconds>(
            deadline - std::chrono::steady_clock::now()));
        if (!frame) {
            if (frame.error().code == Errc::WouldBlock || frame.error().code == Errc::EndOfStream) {
                continue;
            }
            return std::move(frame).error();
        }
        auto image = copyFrameImage(*frame);
        if (image || image.error().code != Errc::WouldBlock) {
            return image;
        }
    }
    return Error::make(Errc::Timeout, "no frame from '" + feed + "' in time");
}

std::vector<unsigned char> encodeJpeg(const cv::Mat& image, int quality) {
    std::vector<unsigned char> bytes;
    try {
        cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
    } catch (const cv::Exception&) {
        bytes.clear();
    }
    return bytes;
}

Result<std::vector<unsigned char>> grabImage(const std::string& feed, ImageKind kind,
                                             std::chrono::milliseconds timeout) {
    auto image = grabFrame(feed, timeout);
    if (!image) {
        return std::move(image).error();
    }
    std::vector<unsigned char> bytes;
    try {
        if (kind == ImageKind::FullPng) {
            cv::imencode(".png", *image, bytes, {cv::IMWRITE_PNG_COMPRESSION, 1});
        } else {
            cv::Mat small = *image;
            if (image->cols > kThumbnailWidth) {
                const int height = std::max(1, image->rows * kThumbnailWidth / image->cols);
                cv::resize(*image, small, cv::Size(kThumbnailWidth, height), 0, 0, cv::INTER_AREA);
            }
            bytes = encodeJpeg(small, 75);
        }
    } catch (const cv::Exception& e) {
        return Error::make(Errc::InvalidArgument, std::string("could not encode: ") + e.what());
    }
    if (bytes.empty()) {
        return Error::make(Errc::InvalidArgument, "could not encode the frame");
    }
    return bytes;
}

}  // namespace shmframe::cli::web
