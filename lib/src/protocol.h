// SPDX-License-Identifier: LGPL-2.1-or-later
// The socket protocol between a writer and its readers (docs/protocol.md).
//
// One SOCK_SEQPACKET connection per reader. Every message is one packet: a
// MessageHeader and a fixed-size payload, little-endian, with its fds attached
// (SCM_RIGHTS). No message is sent per frame.
//
//   reader -> writer   Hello      {flags, pid, clientName}
//   writer -> reader   Welcome    {session, readerId, generation, sizes} + fds
//                                 [pool (read-only), control block, wake-up pipe read end]
//                                 (a probe gets the pool fd only)
//   writer -> reader   NewPool    {generation, poolSize} + fd [pool]
//   writer -> reader   Goodbye    {reason, text}  (then hang-up)
//   writer -> reader   Refused    {reason, text}  (instead of Welcome)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe::protocol {

inline constexpr std::uint32_t kMagic = 0x4d465353;  // "SSFM"
inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kMaxFds = 4;
inline constexpr std::size_t kTextSize = 200;

enum class MessageType : std::uint16_t {
    Hello = 1,
    Welcome = 2,
    NewPool = 3,
    Goodbye = 4,
    Refused = 5,
};

struct MessageHeader {
    std::uint32_t magic;
    std::uint16_t version;
    std::uint16_t type;
    std::uint32_t payloadSize;
    std::uint32_t fdCount;
};

enum HelloFlags : std::uint32_t {
    kHelloProbe = 1u << 0,       // only wants the pool header (list/info), not a reader
    kHelloSequential = 1u << 1,  // reads in sequential mode (counts for lossless)
};
// Bits 8-15 of Hello::flags: the leases the reader asks for; 0 takes the writer's lease
// limit. A writer that does not know these bits grants its limit; either way the reader
// reads what it got from its control block.
inline constexpr std::uint32_t kHelloLeaseShift = 8;
inline constexpr std::uint32_t kHelloLeaseMask = 0xffu << kHelloLeaseShift;

struct Hello {
    std::uint32_t flags;
    std::uint32_t pid;
    char clientName[64];
};

struct Welcome {
    std::uint64_t writerSession;
    std::uint64_t poolSize;
    std::uint64_t controlSize;
    std::uint32_t readerId;
    std::uint32_t generation;
    std::uint32_t writerPid;
    std::uint32_t reserved;
};

struct NewPool {
    std::uint64_t poolSize;
    std::uint32_t generation;
    std::uint32_t reserved;
};

enum class Reason : std::uint32_t {
    Shutdown = 1,
    TooSlow = 2,  // lossless timeout
    ProtocolError = 3,
    AccessDenied = 4,
    VersionMismatch = 5,
    TooManyReaders = 6,
    Internal = 7,
};

struct Goodbye {
    std::uint32_t reason;
    char text[kTextSize];
};
using Refused = Goodbye;

static_assert(sizeof(MessageHeader) == 16);
static_assert(sizeof(Hello) == 72);
static_assert(sizeof(Welcome) == 40);
static_assert(sizeof(NewPool) == 16);
static_assert(sizeof(Goodbye) == 204);

inline constexpr std::size_t kMaxMessageSize = sizeof(MessageHeader) + sizeof(Goodbye);

/// A message as received: its type, payload and the fds that came with it.
struct Message {
    MessageType type{};
    std::variant<Hello, Welcome, NewPool, Goodbye> payload;
    std::vector<UniqueFd> fds;
};

/// Fds each message type must carry (Welcome: 3, or 1 for a probe).
std::size_t expectedFds(MessageType type, bool probe);

/**
 * Parses one packet. Checks magic, version (ProtocolMismatch names both), type, exact
 * payload size and fd count, and string termination. On error the fds are closed.
 */
Result<Message> parse(std::span<const std::byte> packet, std::vector<UniqueFd> fds,
                      bool probeWelcome = false);

/// Encodes a message (header + payload) into bytes.
std::vector<std::byte> encode(MessageType type, const void* payload, std::size_t size,
                              std::size_t fdCount);

/// Copies \a text into a fixed field, truncated and NUL-terminated.
void copyText(char* field, std::size_t fieldSize, const std::string& text);
/// Reads a fixed text field that parse() has checked is terminated.
std::string textOf(const char* field, std::size_t fieldSize);

/// Sends one packet with fds, never blocking (MSG_DONTWAIT | MSG_NOSIGNAL).
Result<void> send(int socket, std::span<const std::byte> packet, std::span<const int> fds);

/**
 * Receives one packet with up to kMaxFds fds (MSG_CMSG_CLOEXEC). A truncated packet or
 * fd list is BadMessage; the peer hanging up is WriterGone; nothing pending is
 * WouldBlock.
 */
Result<Message> receive(int socket, bool probeWelcome = false);

/// Waits up to \a timeoutMs for \a socket to become readable (Timeout otherwise).
Result<void> waitReadable(int socket, int timeoutMs);

}  // namespace shmframe::protocol
