// SPDX-License-Identifier: LGPL-2.1-or-later
// The writer's side of one connected reader: its socket and credentials, and once its
// Hello is answered its control block (lease words, wake-up flag, progress). The writer
// only ever compares the lease words with slot sequences; nothing the reader writes
// there is used as an index.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "mapping.h"
#include "pool_layout.h"
#include "protocol.h"
#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class ReaderConnection final {
  public:
    /// What a reader sent after its Hello (readers send nothing more).
    enum class Input { Nothing, HungUp, Misbehaved };

    ReaderConnection(std::uint32_t id, UniqueFd socket, const ucred& credentials,
                     std::uint64_t helloDeadlineNs);

    std::uint32_t id() const { return id_; }
    int socket() const { return socket_.get(); }
    pid_t pid() const { return pid_; }
    uid_t uid() const { return uid_; }
    gid_t gid() const { return gid_; }
    std::uint64_t helloDeadlineNs() const { return helloDeadlineNs_; }

    /// Takes what the Hello says about the reader.
    void greeted(const protocol::Hello& hello);
    const std::string& name() const { return name_; }
    bool sequential() const { return sequential_; }
    /// Whether it keeps the progress words of its control block (its Hello says so).
    bool reportsProgress() const { return reportsProgress_; }
    /// Leases the reader asked for in its Hello; 0: the writer's lease limit.
    std::uint32_t requestedLeases() const { return requestedLeases_; }

    /// Creates the reader's sealed control block; \a consumed is where a sequential
    /// reader starts.
    Result<void> setUp(std::uint32_t leaseLimit, std::uint64_t consumed);
    int controlFd() const { return controlFd_.get(); }

    /// Whether one of the reader's lease words holds \a sequence.
    bool holdsLease(std::uint64_t sequence) const;
    /// Marks every lease word holding \a sequence revoked; returns how many.
    std::uint32_t revokeLease(std::uint64_t sequence);
    /// The reader is let go: its slots go back to the pool, so every lease it holds is
    /// revoked and no new one can be taken (layout::kLeaseClosed).
    void closeLeases();
    /// The last frame a sequential reader consumed.
    std::uint64_t consumed() const;

    /// Its row of a probe's ReaderTable; \a latest is the newest sequence published.
    /// What the reader wrote of itself is copied, its last frame clamped to \a latest.
    protocol::ReaderRow row(std::uint64_t latest) const;

    /// Whether the reader asked to be woken (it is about to sleep); clears the ask.
    bool takeWakeRequest();

    /// Sends a packet without blocking.
    Result<void> send(std::span<const std::byte> packet, std::span<const int> fds = {});
    /// Sends Refused (during the handshake) or Goodbye (afterwards) with \a text.
    void sendRefused(protocol::Reason reason, const std::string& text);
    void sendGoodbye(protocol::Reason reason, const std::string& text);

    /// Reads what arrived on the socket after the Hello; \a why says what was wrong.
    Input readInput(std::string& why);

  private:
    std::uint32_t id_;
    UniqueFd socket_;
    pid_t pid_;
    uid_t uid_;
    gid_t gid_;
    std::uint64_t helloDeadlineNs_;
    std::string name_;
    bool sequential_ = false;
    bool reportsProgress_ = false;
    std::uint32_t requestedLeases_ = 0;
    std::uint64_t revokedLeases_ = 0;

    UniqueFd controlFd_;
    Mapping control_;
    layout::ControlBlock* block_ = nullptr;
    std::uint32_t leaseCount_ = 0;  // our copy: the reader cannot change it
};

/// The connected readers, as the writer keeps them.
using ReaderList = std::vector<std::unique_ptr<ReaderConnection>>;

/// A probe's ReaderTable: a row for each of \a readers (the first kMaxReaderRows).
protocol::ReaderTable readerTable(std::span<const std::unique_ptr<ReaderConnection>> readers,
                                  std::uint64_t latest);

}  // namespace shmframe
