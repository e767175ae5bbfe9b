// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: protocol::parse(), what a peer's socket message becomes.
//
// Input: byte 0 says how many fds arrived with the message (low 3 bits, 0 to 7) and
// whether a probe's Welcome is expected (bit 7); the rest is the packet. The fds are
// real (dups of /dev/null), so a leak on any path is caught: every one must be closed
// once the parsed message is gone. A message that parses re-encodes to the same bytes.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "protocol.h"

using namespace shmframe;

namespace {

int devNull() {
    static const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd;
}

template <typename Payload>
std::vector<std::byte> reencode(const protocol::Message& message) {
    const auto& payload = std::get<Payload>(message.payload);
    return protocol::encode(message.type, &payload, sizeof(payload), message.fds.size());
}

// A broken invariant: say which, then abort (libFuzzer saves the input).
void fail(const char* what, int line) {
    std::fprintf(stderr, "invariant broken at line %d: %s\n", line, what);
    std::abort();
}
#define check(condition) ((condition) ? void() : fail(#condition, __LINE__))

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    const std::size_t fdCount = data[0] & 0x07;
    const bool probe = (data[0] & 0x80) != 0;
    const std::span<const std::byte> packet(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    std::vector<UniqueFd> fds;
    std::vector<int> numbers;
    for (std::size_t i = 0; i < fdCount; ++i) {
        fds.emplace_back(::fcntl(devNull(), F_DUPFD_CLOEXEC, 0));
        numbers.push_back(fds.back().get());
    }
    {
        auto message = protocol::parse(packet, std::move(fds), probe);
        if (message) {
            check(message->fds.size() == protocol::expectedFds(message->type, probe));
            std::vector<std::byte> again;
            switch (message->type) {
                case protocol::MessageType::Hello: {
                    const auto& hello = std::get<protocol::Hello>(message->payload);
                    check(protocol::textOf(hello.clientName, sizeof(hello.clientName)).size() <
                          sizeof(hello.clientName));
                    again = reencode<protocol::Hello>(*message);
                    break;
                }
                case protocol::MessageType::Welcome:
                    again = reencode<protocol::Welcome>(*message);
                    break;
                case protocol::MessageType::NewPool:
                    again = reencode<protocol::NewPool>(*message);
                    break;
                case protocol::MessageType::Goodbye:
                case protocol::MessageType::Refused: {
                    const auto& goodbye = std::get<protocol::Goodbye>(message->payload);
                    check(protocol::textOf(goodbye.text, sizeof(goodbye.text)).size() <
                          sizeof(goodbye.text));
                    again = reencode<protocol::Goodbye>(*message);
                    break;
                }
                case protocol::MessageType::ReaderTable: {
                    const auto& table = std::get<protocol::ReaderTable>(message->payload);
                    check(table.rows.size() == table.head.rowCount);
                    check(table.rows.size() <= protocol::kMaxReaderRows);
                    for (const auto& row : table.rows) {
                        check(protocol::textOf(row.clientName, sizeof(row.clientName)).size() <
                              sizeof(row.clientName));
                        check(row.delivered <= table.head.latest);
                    }
                    again = protocol::encode(table);
                    break;
                }
                default:
                    check(false);  // parse() let an unknown type through
            }
            check(again.size() == packet.size() &&
                  std::memcmp(again.data(), packet.data(), packet.size()) == 0);
        } else {
            const Errc code = message.error().code;
            check(code == Errc::BadMessage || code == Errc::ProtocolMismatch);
            check(!message.error().message.empty());
        }
    }
    for (const int fd : numbers) {
        check(::fcntl(fd, F_GETFD) == -1);  // closed, whatever parse() decided
    }
    return 0;
}
