// SPDX-License-Identifier: LGPL-2.1-or-later
// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/): honest messages and
// honest pool headers, as the library makes them. Run it again when the wire format
// or the pool layout changes:
//   make_seed_corpus tests/fuzz/corpus
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pool_layout.h"
#include "protocol.h"

using namespace shmframe;

namespace {

bool write(const std::string& path, const std::vector<std::byte>& bytes) {
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) {
        std::perror(path.c_str());
        return false;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
    return std::fclose(file) == 0 && ok;
}

// Byte 0 of a protocol input: fd count, plus the probe bit.
template <typename Payload>
std::vector<std::byte> message(protocol::MessageType type, const Payload& payload, std::size_t fds,
                               bool probe = false) {
    auto packet = protocol::encode(type, &payload, sizeof(payload), fds);
    packet.insert(packet.begin(), std::byte(fds | (probe ? 0x80 : 0)));
    return packet;
}

std::vector<std::byte> header(PixelFormat pixelFormat, std::uint32_t width, std::uint32_t height,
                              std::uint32_t slots, std::uint32_t userMeta, const char* caps) {
    auto format = Format::make(pixelFormat, width, height, {30, 1}, 16);
    if (!format) {
        std::fprintf(stderr, "%s\n", format.error().message.c_str());
        return {};
    }
    format->caps = caps;
    auto geometry = layout::computeGeometry(*format, slots, userMeta);
    layout::PoolDescription description;
    description.geometry = *geometry;
    description.format = *format;
    description.writerSession = 0x1234567;
    description.writerPid = 4242;
    description.generation = 1;
    description.leaseLimit = 2;
    std::vector<std::byte> pool(sizeof(layout::PoolHeader));
    auto* h = new (pool.data()) layout::PoolHeader{};
    layout::writeHeader(*h, description);
    std::printf("pool of %s: %llu bytes\n", format->describe().c_str(),
                static_cast<unsigned long long>(geometry->poolSize));
    return pool;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    bool ok = true;

    const std::string parse = dir + "/fuzz_protocol_parse/";
    protocol::Hello hello{};
    hello.flags = protocol::kHelloSequential;
    hello.pid = 4242;
    protocol::copyText(hello.clientName, sizeof(hello.clientName), "viewer");
    ok &= write(parse + "hello", message(protocol::MessageType::Hello, hello, 0));
    hello.flags = protocol::kHelloProbe;
    ok &= write(parse + "hello-probe", message(protocol::MessageType::Hello, hello, 0));
    protocol::Welcome welcome{0x1234567, 20480, layout::kControlBlockSize, 2, 1, 4242, 0};
    ok &= write(parse + "welcome", message(protocol::MessageType::Welcome, welcome, 3));
    ok &= write(parse + "welcome-probe", message(protocol::MessageType::Welcome, welcome, 1, true));
    protocol::NewPool newPool{40960, 2, 0};
    ok &= write(parse + "new-pool", message(protocol::MessageType::NewPool, newPool, 1));
    protocol::Goodbye goodbye{};
    goodbye.reason = static_cast<std::uint32_t>(protocol::Reason::TooSlow);
    protocol::copyText(goodbye.text, sizeof(goodbye.text), "lossless: did not read frame 7");
    ok &= write(parse + "goodbye", message(protocol::MessageType::Goodbye, goodbye, 0));
    goodbye.reason = static_cast<std::uint32_t>(protocol::Reason::AccessDenied);
    ok &= write(parse + "refused", message(protocol::MessageType::Refused, goodbye, 0));
    protocol::ReaderTable table;
    table.head.latest = 120;
    table.head.readers = 2;
    for (std::uint32_t id : {2u, 3u}) {
        protocol::ReaderRow row{};
        row.readerId = id;
        row.pid = 4242 + id;
        row.uid = 1000;
        row.flags = protocol::kRowReportsProgress | (id == 3 ? protocol::kRowSequential : 0u);
        row.delivered = 118 + id - 2;
        row.received = 100;
        row.missed = 18;
        row.leaseCount = 2;
        row.leasesHeld = 1;
        protocol::copyText(row.clientName, sizeof(row.clientName), "shmframe-viewer");
        table.rows.push_back(row);
    }
    auto tableBytes = protocol::encode(table);
    tableBytes.insert(tableBytes.begin(), std::byte{0});
    ok &= write(parse + "reader-table", tableBytes);

    const std::string pool = dir + "/fuzz_pool_header/";
    ok &= write(pool + "rgba-16x16", header(PixelFormat::RGBA, 16, 16, 3, 64, ""));
    ok &= write(pool + "nv12-32x16",
                header(PixelFormat::NV12, 32, 16, 4, 0, "video/x-raw, format=(string)NV12"));
    ok &= write(pool + "i420-34x18", header(PixelFormat::I420, 34, 18, 5, 256, ""));
    ok &= write(pool + "gray16-33x17", header(PixelFormat::GRAY16_LE, 33, 17, 3, 0, ""));
    ok &= write(pool + "uyvy-20x8", header(PixelFormat::UYVY, 20, 8, 64, 16, ""));
    layout::ControlBlock block{};
    block.magic = layout::kControlMagic;
    block.layoutVersion = layout::kLayoutVersion;
    block.leaseCount = 2;
    block.readerId = 2;
    std::vector<std::byte> blockBytes(sizeof(block));
    std::memcpy(blockBytes.data(), static_cast<const void*>(&block), sizeof(block));
    ok &= write(pool + "control-block", blockBytes);
    return ok ? 0 : 1;
}
