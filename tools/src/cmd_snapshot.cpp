// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe snapshot FEED FILE.png`: the newest frame of a feed as an image file.
#include <sys/stat.h>
#include <unistd.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "cli.h"
#include "shmframe/opencv.h"
#include "shmframe/reader.h"

namespace shmframe::cli {
namespace {

// Encodes \a image by the extension of \a path and puts it there through a temporary
// file in the same folder renamed over it: a full disk or a kill midway never leaves a
// truncated image, and a file already there is only ever replaced by a whole one.
// Something at \a path that is not a regular file (a directory, a device, a socket)
// is left alone.
Result<void> writeImage(const std::string& path, const cv::Mat& image) {
    const auto fail = [&](const std::string& why, int error = 0) {
        return Error::make(Errc::SystemError, "could not write '" + path + "': " + why, error);
    };
    struct stat existing {};
    if (::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode)) {
        return fail("it exists and is not a regular file, so it is left alone");
    }
    std::vector<uchar> bytes;
    try {
        const auto dot = path.rfind('.');
        if (dot == std::string::npos || !cv::imencode(path.substr(dot), image, bytes)) {
            return fail("the image could not be encoded");
        }
    } catch (const cv::Exception& e) {
        return fail(std::string("the image could not be encoded: ") + e.what());
    }
    const auto slash = path.rfind('/');
    const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    std::string temporary =
        (slash == std::string::npos ? std::string() : folder) + ".shmframe-snapshot-XXXXXX";
    const int fd = ::mkstemp(temporary.data());
    if (fd < 0) {
        return fail("cannot create a file in " + folder + " (does it exist, is it writable?)",
                    errno);
    }
    // mkstemp makes it 0600; an image gets the usual mode for a new file.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int error = errno;
            ::close(fd);
            ::unlink(temporary.c_str());
            return fail("writing failed (is the disk full?)", error);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        return fail("writing failed (is the disk full?)", error);
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        return fail("cannot put the image in place", error);
    }
    return {};
}

struct SnapshotOptions {
    std::string feed;
    std::string file;
    double timeout = 5.0;
    bool wait = false;
    bool json = false;
};

// The frame as an image OpenCV can write, copied out of shared memory: gray stays
// gray (16-bit for GRAY16_LE), RGBA/BGRA keep their alpha, everything else is BGR.
Result<cv::Mat> toImage(const Frame& frame) {
    try {
        switch (frame.format().pixelFormat) {
            case PixelFormat::GRAY8:
            case PixelFormat::GRAY16_LE:
            case PixelFormat::BGRA: {
                auto view = matView(frame);
                if (!view) {
                    return std::move(view).error();
                }
                return view->clone();
            }
            case PixelFormat::RGBA: {
                auto view = matView(frame);
                if (!view) {
                    return std::move(view).error();
                }
                cv::Mat bgra;
                cv::cvtColor(*view, bgra, cv::COLOR_RGBA2BGRA);
                return bgra;
            }
            default:
                return toBgr(frame);
        }
    } catch (const cv::Exception& e) {
        return Error::make(Errc::InvalidArgument,
                           "could not convert " + frame.format().describe() + ": " + e.what());
    }
}

int runSnapshot(const SnapshotOptions& options) {
    if (!(options.timeout > 0 && options.timeout <= 3600)) {
        printError("snapshot", "--timeout must be more than 0 and at most 3600 seconds");
        return kExitUsage;
    }
    if (auto valid = validateFeedName(options.feed); !valid) {
        return reportError("snapshot", valid.error());
    }
    bool canWrite = false;
    try {
        canWrite = cv::haveImageWriter(options.file);
    } catch (const cv::Exception&) {
        canWrite = false;
    }
    if (!canWrite) {
        printError("snapshot", "cannot write '" + options.file +
                                   "': no image writer for that file extension (use .png, .jpg, "
                                   ".bmp, .ppm or .tiff)");
        return kExitUsage;
    }
    installStopHandlers();

    ReaderOptions readerOptions;
    readerOptions.mode = ReadMode::Latest;
    readerOptions.waitForWriter = options.wait;
    readerOptions.reconnect = options.wait;
    readerOptions.clientName = "shmframe snapshot";
    auto reader = Reader::open(options.feed, readerOptions);
    if (!reader) {
        return reportError("snapshot", reader.error());
    }

    const auto timeout = std::chrono::nanoseconds(std::llround(options.timeout * 1e9));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool sawEndOfStream = false;
    while (!stopRequested()) {
        const auto remaining = deadline - std::chrono::steady_clock::now();
        if (remaining <= std::chrono::nanoseconds::zero()) {
            break;
        }
        // Short waits, so Ctrl-C is noticed.
        auto frame = reader->next(
            std::min<std::chrono::nanoseconds>(remaining, std::chrono::milliseconds(200)));
        if (!frame) {
            switch (frame.error().code) {
                case Errc::Timeout:
                case Errc::WouldBlock:
                    continue;
                case Errc::EndOfStream:
                    // A writer may publish again after EOS; keep waiting until the timeout.
                    sawEndOfStream = true;
                    continue;
                case Errc::WriterGone:
                case Errc::NoWriter:
                    if (options.wait) {
                        continue;
                    }
                    printError("snapshot", "the writer of '" + options.feed +
                                               "' went away before a frame arrived");
                    return kExitRuntime;
                default:
                    return reportError("snapshot", frame.error());
            }
        }
        auto image = toImage(*frame);
        if (!image) {
            return reportError("snapshot", image.error());
        }
        // The writer may have taken the slot back while we copied: take a newer frame.
        if (!frame->leaseIntact()) {
            continue;
        }
        const FrameMeta meta = frame->meta();
        const Format format = frame->format();
        frame->release();

        if (auto written = writeImage(options.file, *image); !written) {
            printError("snapshot", written.error().message);
            return kExitRuntime;
        }
        if (options.json) {
            nlohmann::ordered_json out = {
                {"file", options.file},
                {"feed", options.feed},
                {"sequence", meta.sequence},
                {"pts", meta.pts == kNoTimestamp ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(meta.pts)},
                {"format", std::string(toString(format.pixelFormat))},
                {"width", format.width},
                {"height", format.height},
                {"channels", image->channels()},
                {"bits", image->depth() == CV_16U ? 16 : 8},
            };
            std::cout << out.dump(2) << '\n';
        } else {
            std::cout << "wrote " << options.file << ": frame " << meta.sequence << " of '"
                      << options.feed << "' (" << format.describe() << ", saved with "
                      << image->channels() << " channel(s), " << (image->depth() == CV_16U ? 16 : 8)
                      << " bits)\n";
        }
        return kExitOk;
    }
    if (stopRequested()) {
        printError("snapshot", "interrupted before a frame arrived");
        return kExitRuntime;
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", options.timeout);
    std::string message = "no frame from '" + options.feed + "' within " + seconds + " s";
    if (sawEndOfStream) {
        message += " (the writer signalled end of stream)";
    }
    printError("snapshot", message);
    return kExitRuntime;
}

}  // namespace

void addSnapshotCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<SnapshotOptions>();
    CLI::App* command = app.add_subcommand(
        "snapshot", "Save the newest frame of a feed as an image (PNG, JPEG, ...; by extension)");
    command->add_option("FEED", options->feed, "Feed name (or absolute socket path)")->required();
    command->add_option("FILE", options->file, "Image file to write, e.g. frame.png")->required();
    command->add_option("--timeout", options->timeout, "Seconds to wait for a frame")
        ->capture_default_str();
    command->add_flag("--wait", options->wait, "Wait (up to --timeout) for a writer to appear");
    command->add_flag("--json", options->json, "Describe the saved frame as JSON");
    command->callback([options, &action] { action = [options] { return runSnapshot(*options); }; });
}

}  // namespace shmframe::cli
