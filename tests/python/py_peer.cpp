// SPDX-License-Identifier: LGPL-2.1-or-later
// The C++ side of the Python tests: writes frames of a known pattern for Python to
// read, checks frames Python wrote, and dies holding a half-written loan.
//
//   shmframe_py_peer write FEED FORMAT WIDTH HEIGHT FRAMES STRIDE_ALIGN
//   shmframe_py_peer check FEED FRAMES
//   shmframe_py_peer die-mid-frame FEED
//
// Byte `column` of row `row` of plane `plane` of frame `n` is
// (plane * 61 + row * 7 + column * 3 + n * 11) mod 256 (tests/python/pattern.py).
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "shmframe/reader.h"
#include "shmframe/writer.h"

using namespace shmframe;
using namespace std::chrono_literals;

namespace {

std::uint8_t pattern(std::uint32_t plane, std::uint64_t row, std::uint64_t column,
                     std::uint64_t frame) {
    return std::uint8_t((plane * 61 + row * 7 + column * 3 + frame * 11) & 0xff);
}

void fill(const Format& format, std::span<std::byte> bytes, std::uint64_t frame,
          std::uint32_t fromPlane = 0) {
    for (std::uint32_t p = fromPlane; p < format.planeCount; ++p) {
        std::byte* plane = bytes.data() + format.planes[p].offset;
        for (std::uint32_t row = 0; row < format.planeRows(p); ++row) {
            for (std::uint64_t column = 0; column < format.rowBytes(p); ++column) {
                plane[row * format.planes[p].stride + column] =
                    std::byte{pattern(p, row, column, frame)};
            }
        }
    }
}

int fail(const std::string& what) {
    std::cerr << "py_peer: " << what << '\n';
    return 1;
}

int write(int argc, char** argv) {
    if (argc != 8) {
        return fail("write FEED FORMAT WIDTH HEIGHT FRAMES STRIDE_ALIGN");
    }
    const auto pixelFormat = pixelFormatFromString(argv[3]);
    if (!pixelFormat) {
        return fail(std::string("unknown format ") + argv[3]);
    }
    auto format =
        Format::make(*pixelFormat, std::uint32_t(std::atoi(argv[4])),
                     std::uint32_t(std::atoi(argv[5])), {30, 1}, std::uint32_t(std::atoi(argv[7])));
    if (!format) {
        return fail(format.error().message);
    }
    const int frames = std::atoi(argv[6]);
    WriterOptions options;
    options.policy = WriterPolicy::Lossless;
    options.losslessTimeout = 10s;
    auto writer = Writer::create(argv[2], *format, options);
    if (!writer) {
        return fail(writer.error().message);
    }
    std::cout << "ready" << std::endl;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (writer->stats().readers == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    for (int n = 0; n < frames; ++n) {
        auto frame = writer->loan();
        if (!frame) {
            return fail(frame.error().message);
        }
        fill(*format, frame->bytes(), std::uint64_t(n));
        const std::string user = "cpp " + std::to_string(n);
        std::memcpy(frame->userMeta().data(), user.data(), user.size());
        frame->setUserMetaLength(std::uint32_t(user.size()));
        FrameMeta meta;
        meta.pts = 1000 + std::uint64_t(n);
        meta.dts = 500 + std::uint64_t(n);
        meta.duration = 33;
        meta.flags = kFrameFlagKeyframe;
        if (auto published = writer->publish(std::move(*frame), meta); !published) {
            return fail(published.error().message);
        }
    }
    // Lossless: the reader has every frame once the next loan succeeds; then EOS.
    std::this_thread::sleep_for(50ms);
    writer->close();
    return 0;
}

int check(int argc, char** argv) {
    if (argc != 4) {
        return fail("check FEED FRAMES");
    }
    ReaderOptions options;
    options.mode = ReadMode::Sequential;
    options.reconnect = false;
    auto reader = Reader::open(argv[2], options);
    if (!reader) {
        return fail(reader.error().message);
    }
    std::cout << "ready" << std::endl;
    const int frames = std::atoi(argv[3]);
    for (int n = 0; n < frames; ++n) {
        auto frame = reader->next(20s);
        if (!frame) {
            const ReaderStats stats = reader->stats();
            const auto info = reader->writer();
            return fail("frame " + std::to_string(n) + ": " + frame.error().message +
                        " (received " + std::to_string(stats.received) + ", gaps " +
                        std::to_string(stats.gaps) + ", writer published " +
                        std::to_string(info ? info->published : 0) + ")");
        }
        const Format& format = frame->format();
        const std::uint64_t index = frame->meta().sequence - 1;
        for (std::uint32_t p = 0; p < format.planeCount; ++p) {
            const auto plane = frame->plane(p);
            for (std::uint32_t row = 0; row < format.planeRows(p); ++row) {
                for (std::uint64_t column = 0; column < format.rowBytes(p); ++column) {
                    const auto seen = std::uint8_t(plane[row * format.planes[p].stride + column]);
                    if (seen != pattern(p, row, column, index)) {
                        return fail("frame " + std::to_string(index) + " plane " +
                                    std::to_string(p) + " row " + std::to_string(row) + " byte " +
                                    std::to_string(column) + ": " + std::to_string(seen));
                    }
                }
            }
        }
        const auto user = frame->userMeta();
        const std::string expected = "py " + std::to_string(index);
        const FrameMeta& meta = frame->meta();
        if (std::string(reinterpret_cast<const char*>(user.data()), user.size()) != expected ||
            meta.pts != 2000 + index || meta.dts != kNoTimestamp || meta.duration != 40 ||
            meta.flags != kFrameFlagDiscont) {
            return fail("frame " + std::to_string(index) + ": wrong metadata");
        }
        std::cout << "frame " << index << " " << format.describe() << std::endl;
    }
    return 0;
}

int dieMidFrame(int argc, char** argv) {
    if (argc != 3) {
        return fail("die-mid-frame FEED");
    }
    auto format = Format::make(PixelFormat::GRAY8, 64, 32);
    auto writer = Writer::create(argv[2], *format);
    if (!writer) {
        return fail(writer.error().message);
    }
    while (writer->stats().readers == 0) {
        std::this_thread::sleep_for(5ms);
    }
    auto first = writer->loan();
    fill(*format, first->bytes(), 0);
    if (!writer->publish(std::move(*first), {})) {
        return fail("publish");
    }
    auto second = writer->loan();
    std::memset(second->bytes().data(), 0xee, second->bytes().size() / 2);
    std::cout << "mid-frame" << std::endl;
    ::pause();  // killed here (SIGKILL), its loan never published
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    if (command == "write") {
        return write(argc, argv);
    }
    if (command == "check") {
        return check(argc, argv);
    }
    if (command == "die-mid-frame") {
        return dieMidFrame(argc, argv);
    }
    return fail("usage: write | check | die-mid-frame (see the source)");
}
