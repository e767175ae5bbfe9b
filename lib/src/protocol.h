// SPDX-License-Identifier: LGPL-2.1-or-later
// The socket protocol between a writer and its readers (docs/protocol.md).
//
// One SOCK_SEQPACKET connection per reader. Every message is one packet: a
// MessageHeader and a fixed-size payload, little-endian, with its fds attached
// (SCM_RIGHTS). No message is sent per frame.
//
//   reader -> writer   Hello      {flags, pid, clientName}
//   writer -> reader   Welcome    {session, readerId, generation, sizes} + fds
//                                 [pool (read-only), control block, wake-up listener (epoll)]
//                                 (a probe gets the pool fd only)
//   writer -> reader   NewPool    {generation, poolSize} + fd [pool]
//   writer -> reader   Goodbye    {reason, text}  (then hang-up)
//   writer -> reader   Refused    {reason, text}  (instead of Welcome)
//   writer -> probe    ReaderTable {latest, readers, rows[]}  (after the Welcome, only to
//                                 a probe that asked for it with kHelloReaderTable)
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
// Version 2: the Welcome's third fd is an epoll instance watching the writer's one
// wake-up eventfd, not the read end of a pipe of the reader's own.
inline constexpr std::uint16_t kVersion = 2;
inline constexpr std::size_t kMaxFds = 4;
inline constexpr std::size_t kTextSize = 200;

enum class MessageType : std::uint16_t {
    Hello = 1,
    Welcome = 2,
    NewPool = 3,
    Goodbye = 4,
    Refused = 5,
    ReaderTable = 6,  // sent only to a probe that asked (kHelloReaderTable): no version bump
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
    // A probe that wants the ReaderTable after its Welcome. A writer that predates it
    // ignores the bit and hangs up after the Welcome: the probe then knows no table.
    kHelloReaderTable = 1u << 2,
    // A reader that keeps the progress words of its control block (delivered, received,
    // missed). A writer that predates it ignores the bit; one that knows it reports the
    // progress of the readers that set it only.
    kHelloReportsProgress = 1u << 3,
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

// The readers of a feed as their writer sees them, for `shmframe top`: one row per
// reader. What the reader writes of itself (its progress) is a claim the writer copies
// (clamped to what it published); what the writer knows itself (pid, uid, leases) is not.
enum ReaderRowFlags : std::uint32_t {
    kRowSequential = 1u << 0,
    kRowReportsProgress = 1u << 1,  // delivered, received and missed are the reader's own
};
inline constexpr std::uint32_t kMaxReaderRows = 256;

struct ReaderRow {
    std::uint32_t readerId;
    std::uint32_t pid;  // SO_PEERCRED
    std::uint32_t uid;  // SO_PEERCRED
    std::uint32_t flags;
    std::uint64_t delivered;  // the last sequence it took (at most the table's latest)
    std::uint64_t received;   // frames it took on this connection
    std::uint64_t missed;     // frames it passed over: skipped (latest) or gaps (sequential)
    std::uint64_t revokedLeases;
    std::uint32_t leaseCount;  // leases granted
    std::uint32_t leasesHeld;  // lease words holding a frame now
    char clientName[64];
};

struct ReaderTableHead {
    std::uint64_t latest;   // the newest sequence published when the table was made
    std::uint32_t readers;  // readers connected; the rows are the first kMaxReaderRows
    std::uint32_t rowCount;
};

struct ReaderTable {
    ReaderTableHead head{};
    std::vector<ReaderRow> rows;
};

static_assert(sizeof(MessageHeader) == 16);
static_assert(sizeof(Hello) == 72);
static_assert(sizeof(Welcome) == 40);
static_assert(sizeof(NewPool) == 16);
static_assert(sizeof(Goodbye) == 204);
static_assert(sizeof(ReaderRow) == 120);
static_assert(offsetof(ReaderRow, delivered) == 16);
static_assert(offsetof(ReaderRow, leaseCount) == 48);
static_assert(offsetof(ReaderRow, clientName) == 56);
static_assert(sizeof(ReaderTableHead) == 16);

inline constexpr std::size_t kMaxMessageSize =
    sizeof(MessageHeader) + sizeof(ReaderTableHead) + kMaxReaderRows * sizeof(ReaderRow);
static_assert(kMaxMessageSize >= sizeof(MessageHeader) + sizeof(Goodbye));

/// A message as received: its type, payload and the fds that came with it.
struct Message {
    MessageType type{};
    std::variant<Hello, Welcome, NewPool, Goodbye, ReaderTable> payload;
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

/// Encodes a ReaderTable (its head's rowCount is taken from \a table.rows).
std::vector<std::byte> encode(const ReaderTable& table);

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
