// SPDX-License-Identifier: LGPL-2.1-or-later
// `shmframe publish FEED`: a writer of test patterns, paced at a frame rate.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <vector>

#include "cli.h"
#include "patterns.h"
#include "shmframe/writer.h"

namespace shmframe::cli {
namespace {

struct PublishOptions {
    std::string feed;
    std::string pattern = "moving";
    std::string size = "640x480";
    std::string format = "RGBA";
    std::string fps = "30";
    std::string colorimetry;  // empty: the default for the format and size
    std::uint64_t frames = 0;
    std::uint32_t slots = 4;
    std::uint32_t leaseLimit = 2;
    std::string policy = "never-block";
    std::string access = "uid";
    std::uint32_t align = 64;
    std::uint32_t waitReaders = 0;
    bool linger = false;
    bool quiet = false;
};

// The status line on a terminal: rewritten in place twice a second.
class StatusLine {
  public:
    StatusLine(bool enabled, std::string feed) : enabled_(enabled), feed_(std::move(feed)) {}

    void update(std::uint64_t published, std::uint32_t readers, bool force = false) {
        if (!enabled_) {
            return;
        }
        const std::uint64_t now = monotonicNs();
        if (!force && now - lastNs_ < 500'000'000u) {
            return;
        }
        const double seconds = lastNs_ ? double(now - lastNs_) / 1e9 : 0.0;
        const double fps = seconds > 0 ? double(published - lastPublished_) / seconds : 0.0;
        std::fprintf(stderr, "\r\033[K%s: %llu frames  %.1f fps  %u reader(s)", feed_.c_str(),
                     static_cast<unsigned long long>(published), fps, readers);
        std::fflush(stderr);
        lastNs_ = now;
        lastPublished_ = published;
    }
    void finish() {
        if (enabled_ && lastNs_) {
            std::fputc('\n', stderr);
        }
    }

  private:
    bool enabled_;
    std::string feed_;
    std::uint64_t lastNs_ = 0;
    std::uint64_t lastPublished_ = 0;
};

int runPublish(const PublishOptions& options) {
    auto pattern = patterns::parsePattern(options.pattern);
    if (!pattern) {
        return reportError("publish", pattern.error());
    }
    auto size = parseSize(options.size);
    if (!size) {
        return reportError("publish", size.error());
    }
    auto pixelFormat = parsePixelFormat(options.format);
    if (!pixelFormat) {
        return reportError("publish", pixelFormat.error());
    }
    auto rate = parseFrameRate(options.fps);
    if (!rate) {
        return reportError("publish", rate.error());
    }
    auto policy = writerPolicyFromString(options.policy);
    if (!policy) {
        printError("publish",
                   "unknown --policy '" + options.policy + "' (use never-block or lossless)");
        return kExitUsage;
    }
    auto access = AccessPolicy::parse(options.access);
    if (!access) {
        return reportError("publish", access.error());
    }
    if (auto valid = validateFeedName(options.feed); !valid) {
        return reportError("publish", valid.error());
    }
    auto format = Format::make(*pixelFormat, size->first, size->second, *rate, options.align);
    if (!format) {
        return reportError("publish", format.error());
    }
    if (!options.colorimetry.empty()) {
        auto colorimetry = Colorimetry::parse(options.colorimetry);
        if (!colorimetry) {
            printError("publish", colorimetry.error().message);
            return kExitUsage;
        }
        format->colorimetry = *colorimetry;
    }

    WriterOptions writerOptions;
    writerOptions.slotCount = options.slots;
    writerOptions.leaseLimit = options.leaseLimit;
    writerOptions.policy = *policy;
    writerOptions.access = *access;
    installStopHandlers();
    auto writer = Writer::create(options.feed, *format, writerOptions);
    if (!writer) {
        return reportError("publish", writer.error());
    }
    std::cout << "publishing '" << options.feed << "': " << writer->format().describe()
              << ", pattern " << pattern->describe() << ", socket " << writer->socketPath()
              << std::endl;

    if (options.waitReaders > 0) {
        std::cout << "waiting for " << options.waitReaders << " reader(s)" << std::endl;
        while (!stopRequested() && writer->stats().readers < options.waitReaders) {
            sleepUntilNs(monotonicNs() + 10'000'000u);
        }
    }

    patterns::PatternGenerator generator(*pattern, format->width, format->height);
    patterns::RgbaImage image;
    // A still pattern is converted once and copied into each slot.
    std::vector<std::byte> stillFrame;
    if (!generator.animated()) {
        generator.render(0, image);
        stillFrame.resize(writer->format().frameSize);
        if (auto written = patterns::writeBuffer(image, writer->format(), stillFrame); !written) {
            return reportError("publish", written.error());
        }
    }

    const std::uint64_t periodNs =
        std::uint64_t(1'000'000'000) * std::uint64_t(rate->den) / std::uint64_t(rate->num);
    StatusLine status(!options.quiet && isatty(STDERR_FILENO), options.feed);
    std::uint64_t published = 0;
    std::uint64_t loanFailures = 0;
    std::uint64_t nextNs = monotonicNs();
    for (std::uint64_t index = 0; options.frames == 0 || index < options.frames; ++index) {
        if (stopRequested()) {
            break;
        }
        FrameMeta meta;
        meta.pts = index * periodNs;
        meta.duration = periodNs;
        meta.flags = index == 0 ? kFrameFlagDiscont | kFrameFlagKeyframe : kFrameFlagKeyframe;
        Result<void> sent;
        if (generator.animated()) {
            generator.render(index, image);
            auto frame = writer->loan();
            if (frame) {
                if (auto written = patterns::writeFrame(image, *frame); !written) {
                    return reportError("publish", written.error());
                }
                sent = writer->publish(std::move(*frame), meta);
            } else {
                sent = std::move(frame).error();
            }
        } else {
            sent = writer->publishCopy(stillFrame, meta);
        }
        if (sent) {
            ++published;
        } else if (sent.error().code == Errc::WouldBlock) {
            ++loanFailures;  // every slot busy: this frame is skipped, not fatal
        } else {
            status.finish();
            return reportError("publish", sent.error());
        }
        status.update(published, writer->stats().readers);

        nextNs += periodNs;
        const std::uint64_t now = monotonicNs();
        if (nextNs > now) {
            sleepUntilNs(nextNs);
        } else if (now - nextNs > periodNs) {
            nextNs = now;  // fell behind (a slow machine): do not burst to catch up
        }
    }
    status.update(published, writer->stats().readers, true);
    if (options.linger && !stopRequested()) {
        status.finish();
        std::cout << "published " << published << " frames; the last one stays readable until "
                  << "Ctrl-C or SIGTERM" << std::endl;
        while (!stopRequested()) {
            sleepUntilNs(monotonicNs() + 200'000'000u);
        }
    }
    status.finish();
    if (auto ended = writer->endOfStream(); !ended) {
        printError("publish", ended.error().message);
    }
    writer->close();
    std::cout << "published " << published << " frames to '" << options.feed << "'";
    if (loanFailures) {
        std::cout << " (" << loanFailures << " skipped: no free slot)";
    }
    std::cout << std::endl;
    return kExitOk;
}

}  // namespace

void addPublishCommand(CLI::App& app, Action& action) {
    auto options = std::make_shared<PublishOptions>();
    CLI::App* command =
        app.add_subcommand("publish", "Publish a test pattern on a feed until --frames or Ctrl-C");
    command->add_option("FEED", options->feed, "Feed name (or absolute socket path)")->required();
    command
        ->add_option("--pattern", options->pattern,
                     "moving, solid:RRGGBB[AA], gradient, checkers[:SIZE], noise or smpte")
        ->capture_default_str();
    command->add_option("--size", options->size, "Frame size WIDTHxHEIGHT")->capture_default_str();
    command
        ->add_option("--format", options->format,
                     "Pixel format: RGBA BGRA RGBx BGRx RGB BGR GRAY8 GRAY16_LE NV12 I420 YUY2 "
                     "UYVY")
        ->capture_default_str();
    command->add_option("--colorimetry", options->colorimetry,
                        "Colours of the frames: bt601, bt709, bt2020 or srgb, optionally :full or "
                        ":limited (bt709:full), or RANGE:MATRIX:TRANSFER:PRIMARIES. Default: "
                        "GStreamer's for the format and size (YUV up to 576 lines bt601, taller "
                        "bt709; RGB srgb)");
    command->add_option("--fps", options->fps, "Frame rate: 30, 29.97 or 30000/1001 (max 1000)")
        ->capture_default_str();
    command->add_option("--frames", options->frames, "Frames to publish (0: until Ctrl-C)")
        ->capture_default_str();
    command->add_option("--slots", options->slots, "Frame slots in the pool (3 to 64)")
        ->capture_default_str();
    command->add_option("--lease-limit", options->leaseLimit, "Frames one reader may hold (1-16)")
        ->capture_default_str();
    command->add_option("--policy", options->policy, "never-block or lossless")
        ->capture_default_str();
    command->add_option("--access", options->access, "Who may read: uid, any, uid:1000,... gid:44")
        ->capture_default_str();
    command->add_option("--align", options->align, "Row stride alignment in bytes (1 to 4096)")
        ->capture_default_str();
    command
        ->add_option("--wait-readers", options->waitReaders,
                     "Publish the first frame only once this many readers are connected")
        ->capture_default_str();
    command->add_flag("--linger", options->linger,
                      "After --frames, keep the feed open (last frame readable) until Ctrl-C");
    command->add_flag("--quiet", options->quiet, "No live status line");
    command->callback([options, &action] { action = [options] { return runPublish(*options); }; });
}

}  // namespace shmframe::cli
