// SPDX-License-Identifier: LGPL-2.1-or-later
#include "protocol.h"

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>

namespace shmframe::protocol {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian; a big-endian port must byte-swap");

template <typename Payload>
Result<Payload> payloadOf(std::span<const std::byte> bytes, const char* name) {
    if (bytes.size() != sizeof(Payload)) {
        return Error::make(Errc::BadMessage,
                           std::string(name) + " message has " + std::to_string(bytes.size()) +
                               " payload bytes, expected " + std::to_string(sizeof(Payload)));
    }
    Payload payload;
    std::memcpy(&payload, bytes.data(), sizeof(Payload));
    return payload;
}

bool terminated(const char* field, std::size_t size) {
    return std::memchr(field, '\0', size) != nullptr;
}

// A ReaderTable: its head, then exactly rowCount rows, each one checked.
Result<ReaderTable> readerTableOf(std::span<const std::byte> bytes) {
    ReaderTable table;
    if (bytes.size() < sizeof(table.head)) {
        return Error::make(Errc::BadMessage, "ReaderTable message has " +
                                                 std::to_string(bytes.size()) +
                                                 " payload bytes, fewer than its head");
    }
    std::memcpy(&table.head, bytes.data(), sizeof(table.head));
    const ReaderTableHead& head = table.head;
    if (head.rowCount > kMaxReaderRows || head.rowCount > head.readers) {
        return Error::make(Errc::BadMessage,
                           "ReaderTable field 'rowCount' is " + std::to_string(head.rowCount) +
                               ", more than its " + std::to_string(head.readers) +
                               " readers or the " + std::to_string(kMaxReaderRows) +
                               " rows a table may have");
    }
    const std::size_t expected = sizeof(head) + std::size_t{head.rowCount} * sizeof(ReaderRow);
    if (bytes.size() != expected) {
        return Error::make(Errc::BadMessage,
                           "ReaderTable message has " + std::to_string(bytes.size()) +
                               " payload bytes, expected " + std::to_string(expected) +
                               " for its " + std::to_string(head.rowCount) + " rows");
    }
    table.rows.resize(head.rowCount);
    if (head.rowCount > 0) {  // no rows: data() may be null, which memcpy must not get
        std::memcpy(table.rows.data(), bytes.data() + sizeof(head),
                    head.rowCount * sizeof(ReaderRow));
    }
    for (const ReaderRow& row : table.rows) {
        const std::string which = "ReaderTable row of reader " + std::to_string(row.readerId);
        if (!terminated(row.clientName, sizeof(row.clientName))) {
            return Error::make(Errc::BadMessage, which + ": field 'clientName' is not terminated");
        }
        if (row.delivered > head.latest) {
            return Error::make(Errc::BadMessage,
                               which + ": field 'delivered' is past the table's 'latest'");
        }
        if (row.leasesHeld > row.leaseCount) {
            return Error::make(Errc::BadMessage,
                               which + ": field 'leasesHeld' is more than its 'leaseCount'");
        }
    }
    return table;
}

}  // namespace

std::size_t expectedFds(MessageType type, bool probe) {
    switch (type) {
        case MessageType::Welcome:
            return probe ? 1 : 3;
        case MessageType::NewPool:
            return 1;
        default:
            return 0;
    }
}

Result<Message> parse(std::span<const std::byte> packet, std::vector<UniqueFd> fds,
                      bool probeWelcome) {
    MessageHeader header;
    if (packet.size() < sizeof(header)) {
        return Error::make(Errc::BadMessage, "message of " + std::to_string(packet.size()) +
                                                 " bytes is shorter than its header");
    }
    std::memcpy(&header, packet.data(), sizeof(header));
    if (header.magic != kMagic) {
        return Error::make(Errc::ProtocolMismatch,
                           "peer does not speak the shmframe protocol (bad magic)");
    }
    if (header.version != kVersion) {
        return Error::make(Errc::ProtocolMismatch,
                           "peer speaks shmframe protocol version " +
                               std::to_string(header.version) + ", this library speaks " +
                               std::to_string(kVersion) + "; use matching shmframe versions");
    }
    const auto payload = packet.subspan(sizeof(header));
    if (header.payloadSize != payload.size()) {
        return Error::make(Errc::BadMessage, "message header field 'payloadSize' says " +
                                                 std::to_string(header.payloadSize) +
                                                 " bytes but " + std::to_string(payload.size()) +
                                                 " arrived");
    }
    const auto type = static_cast<MessageType>(header.type);
    if (header.fdCount != fds.size()) {
        return Error::make(Errc::BadMessage, "message header field 'fdCount' says " +
                                                 std::to_string(header.fdCount) + " fds but " +
                                                 std::to_string(fds.size()) + " arrived");
    }
    Message message;
    message.type = type;
    switch (type) {
        case MessageType::Hello: {
            auto hello = payloadOf<Hello>(payload, "Hello");
            if (!hello) {
                return std::move(hello).error();
            }
            if (!terminated(hello->clientName, sizeof(hello->clientName))) {
                return Error::make(Errc::BadMessage, "Hello field 'clientName' is not terminated");
            }
            message.payload = *hello;
            break;
        }
        case MessageType::Welcome: {
            auto welcome = payloadOf<Welcome>(payload, "Welcome");
            if (!welcome) {
                return std::move(welcome).error();
            }
            message.payload = *welcome;
            break;
        }
        case MessageType::NewPool: {
            auto newPool = payloadOf<NewPool>(payload, "NewPool");
            if (!newPool) {
                return std::move(newPool).error();
            }
            message.payload = *newPool;
            break;
        }
        case MessageType::Goodbye:
        case MessageType::Refused: {
            auto goodbye = payloadOf<Goodbye>(payload, "Goodbye");
            if (!goodbye) {
                return std::move(goodbye).error();
            }
            if (!terminated(goodbye->text, sizeof(goodbye->text))) {
                return Error::make(Errc::BadMessage, "Goodbye field 'text' is not terminated");
            }
            message.payload = *goodbye;
            break;
        }
        case MessageType::ReaderTable: {
            auto table = readerTableOf(payload);
            if (!table) {
                return std::move(table).error();
            }
            message.payload = std::move(*table);
            break;
        }
        default:
            return Error::make(Errc::BadMessage,
                               "unknown message type " + std::to_string(header.type));
    }
    if (fds.size() != expectedFds(type, probeWelcome)) {
        return Error::make(Errc::BadMessage, "message type " + std::to_string(header.type) +
                                                 " came with " + std::to_string(fds.size()) +
                                                 " fds, expected " +
                                                 std::to_string(expectedFds(type, probeWelcome)));
    }
    message.fds = std::move(fds);
    return message;
}

std::vector<std::byte> encode(MessageType type, const void* payload, std::size_t size,
                              std::size_t fdCount) {
    MessageHeader header{kMagic, kVersion, static_cast<std::uint16_t>(type),
                         static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(fdCount)};
    std::vector<std::byte> packet(sizeof(header) + size);
    std::memcpy(packet.data(), &header, sizeof(header));
    if (size) {
        std::memcpy(packet.data() + sizeof(header), payload, size);
    }
    return packet;
}

std::vector<std::byte> encode(const ReaderTable& table) {
    ReaderTableHead head = table.head;
    head.rowCount = static_cast<std::uint32_t>(table.rows.size());
    std::vector<std::byte> payload(sizeof(head) + table.rows.size() * sizeof(ReaderRow));
    std::memcpy(payload.data(), &head, sizeof(head));
    if (!table.rows.empty()) {
        std::memcpy(payload.data() + sizeof(head), table.rows.data(),
                    table.rows.size() * sizeof(ReaderRow));
    }
    return encode(MessageType::ReaderTable, payload.data(), payload.size(), 0);
}

void copyText(char* field, std::size_t fieldSize, const std::string& text) {
    std::memset(field, 0, fieldSize);
    std::memcpy(field, text.data(), std::min(text.size(), fieldSize - 1));
}

std::string textOf(const char* field, std::size_t fieldSize) {
    return std::string(field, strnlen(field, fieldSize));
}

Result<void> send(int socket, std::span<const std::byte> packet, std::span<const int> fds) {
    msghdr msg{};
    iovec iov{const_cast<std::byte*>(packet.data()), packet.size()};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
    if (!fds.empty()) {
        msg.msg_control = control.data();
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    for (;;) {
        if (::sendmsg(socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            return {};
        }
        if (errno != EINTR) {
            const int err = errno;
            return Error::make(err == EAGAIN ? Errc::WouldBlock : Errc::SystemError,
                               "sending a protocol message", err);
        }
    }
}

Result<Message> receive(int socket, bool probeWelcome) {
    std::array<std::byte, kMaxMessageSize + 1> buffer;
    alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int) * kMaxFds)> control{};
    msghdr msg{};
    iovec iov{buffer.data(), buffer.size()};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t received;
    do {
        received = ::recvmsg(socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);

    // Take ownership of every fd first, so that no error path leaks one.
    std::vector<UniqueFd> fds;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); received >= 0 && cmsg;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd;
                std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
                fds.emplace_back(fd);
            }
        }
    }
    if (received < 0) {
        const int err = errno;
        if (err == EAGAIN) {
            return Error::make(Errc::WouldBlock, "no message pending");
        }
        if (err == ECONNRESET) {
            return Error::make(Errc::WriterGone, "peer reset the connection");
        }
        return Error::fromErrno("receiving a protocol message", err);
    }
    if (received == 0) {
        return Error::make(Errc::WriterGone, "peer hung up");
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        return Error::make(Errc::BadMessage,
                           "message carried more than " + std::to_string(kMaxFds) + " fds");
    }
    if ((msg.msg_flags & MSG_TRUNC) || static_cast<std::size_t>(received) > kMaxMessageSize) {
        return Error::make(Errc::BadMessage, "message is larger than any protocol message");
    }
    return parse(std::span(buffer.data(), static_cast<std::size_t>(received)), std::move(fds),
                 probeWelcome);
}

Result<void> waitReadable(int socket, int timeoutMs) {
    pollfd pfd{socket, POLLIN, 0};
    for (;;) {
        const int ready = ::poll(&pfd, 1, timeoutMs);
        if (ready > 0) {
            return {};
        }
        if (ready == 0) {
            return Error::make(Errc::Timeout,
                               "peer did not answer within " + std::to_string(timeoutMs) + " ms");
        }
        if (errno != EINTR) {
            return Error::fromErrno("poll", errno);
        }
    }
}

}  // namespace shmframe::protocol
