// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reader_connection.h"

#include <algorithm>

#include "memfd.h"

namespace shmframe {

ReaderConnection::ReaderConnection(std::uint32_t id, UniqueFd socket, const ucred& credentials,
                                   std::uint64_t helloDeadlineNs)
    : id_(id),
      socket_(std::move(socket)),
      pid_(credentials.pid),
      uid_(credentials.uid),
      gid_(credentials.gid),
      helloDeadlineNs_(helloDeadlineNs) {}

void ReaderConnection::greeted(const protocol::Hello& hello) {
    name_ = protocol::textOf(hello.clientName, sizeof(hello.clientName));
    sequential_ = (hello.flags & protocol::kHelloSequential) != 0;
    reportsProgress_ = (hello.flags & protocol::kHelloReportsProgress) != 0;
    requestedLeases_ = (hello.flags & protocol::kHelloLeaseMask) >> protocol::kHelloLeaseShift;
}

Result<void> ReaderConnection::setUp(std::uint32_t leaseLimit, std::uint64_t consumed) {
    auto controlFd = memfd::create("shmframe-reader", layout::kControlBlockSize);
    if (!controlFd) {
        return std::move(controlFd).error();
    }
    auto control =
        Mapping::map(controlFd->get(), layout::kControlBlockSize, Mapping::Access::ReadWrite);
    if (!control) {
        return std::move(control).error();
    }
    if (auto sealed = memfd::seal(controlFd->get()); !sealed) {
        return std::move(sealed).error();
    }
    controlFd_ = std::move(*controlFd);
    control_ = std::move(*control);
    block_ = reinterpret_cast<layout::ControlBlock*>(control_.data());
    block_->magic = layout::kControlMagic;
    block_->layoutVersion = layout::kLayoutVersion;
    block_->leaseCount = leaseLimit;
    block_->readerId = id_;
    leaseCount_ = leaseLimit;
    block_->consumed.store(consumed, std::memory_order_seq_cst);
    block_->delivered.store(consumed, std::memory_order_relaxed);
    return {};
}

bool ReaderConnection::holdsLease(std::uint64_t sequence) const {
    for (std::uint32_t i = 0; i < leaseCount_; ++i) {
        if (block_->leases[i].load(std::memory_order_seq_cst) == sequence) {
            return true;
        }
    }
    return false;
}

std::uint32_t ReaderConnection::revokeLease(std::uint64_t sequence) {
    std::uint32_t revoked = 0;
    for (std::uint32_t i = 0; i < leaseCount_; ++i) {
        std::uint64_t expected = sequence;
        if (block_->leases[i].compare_exchange_strong(expected, sequence | layout::kLeaseRevoked)) {
            ++revoked;
        }
    }
    revokedLeases_ += revoked;
    return revoked;
}

void ReaderConnection::closeLeases() {
    for (std::uint32_t i = 0; block_ && i < leaseCount_; ++i) {
        block_->leases[i].exchange(layout::kLeaseClosed, std::memory_order_seq_cst);
    }
}

std::uint64_t ReaderConnection::consumed() const {
    return block_->consumed.load();
}

protocol::ReaderRow ReaderConnection::row(std::uint64_t latest) const {
    protocol::ReaderRow row{};
    row.readerId = id_;
    row.pid = static_cast<std::uint32_t>(pid_);
    row.uid = static_cast<std::uint32_t>(uid_);
    row.flags = (sequential_ ? protocol::kRowSequential : 0u) |
                (reportsProgress_ ? protocol::kRowReportsProgress : 0u);
    if (block_ && reportsProgress_) {
        row.delivered = std::min(block_->delivered.load(std::memory_order_relaxed), latest);
        row.received = block_->received.load(std::memory_order_relaxed);
        row.missed = block_->missed.load(std::memory_order_relaxed);
    }
    row.revokedLeases = revokedLeases_;
    row.leaseCount = leaseCount_;
    for (std::uint32_t i = 0; block_ && i < leaseCount_; ++i) {
        const std::uint64_t lease = block_->leases[i].load(std::memory_order_relaxed);
        row.leasesHeld += lease != 0 && (lease & layout::kLeaseRevoked) == 0 ? 1 : 0;
    }
    protocol::copyText(row.clientName, sizeof(row.clientName), name_);
    return row;
}

protocol::ReaderTable readerTable(std::span<const std::unique_ptr<ReaderConnection>> readers,
                                  std::uint64_t latest) {
    protocol::ReaderTable table;
    table.head.latest = latest;
    table.head.readers = static_cast<std::uint32_t>(readers.size());
    for (const auto& reader :
         readers.first(std::min<std::size_t>(readers.size(), protocol::kMaxReaderRows))) {
        table.rows.push_back(reader->row(latest));
    }
    return table;
}

bool ReaderConnection::takeWakeRequest() {
    // A load first: most readers are busy, not asleep, and a load does not take the
    // cache line from them.
    return block_->wantWake.load(std::memory_order_seq_cst) != 0 &&
           block_->wantWake.exchange(0) != 0;
}

Result<void> ReaderConnection::send(std::span<const std::byte> packet, std::span<const int> fds) {
    return protocol::send(socket_.get(), packet, fds);
}

void ReaderConnection::sendRefused(protocol::Reason reason, const std::string& text) {
    protocol::Refused refused{};
    refused.reason = static_cast<std::uint32_t>(reason);
    protocol::copyText(refused.text, sizeof(refused.text), text);
    [[maybe_unused]] auto sent =
        send(protocol::encode(protocol::MessageType::Refused, &refused, sizeof(refused), 0));
}

void ReaderConnection::sendGoodbye(protocol::Reason reason, const std::string& text) {
    protocol::Goodbye goodbye{};
    goodbye.reason = static_cast<std::uint32_t>(reason);
    protocol::copyText(goodbye.text, sizeof(goodbye.text), text);
    [[maybe_unused]] auto sent =
        send(protocol::encode(protocol::MessageType::Goodbye, &goodbye, sizeof(goodbye), 0));
}

ReaderConnection::Input ReaderConnection::readInput(std::string& why) {
    auto message = protocol::receive(socket_.get());
    if (!message && message.error().code == Errc::WouldBlock) {
        return Input::Nothing;
    }
    if (!message && message.error().code == Errc::WriterGone) {
        return Input::HungUp;
    }
    // Readers send nothing after Hello: anything else is a broken or hostile peer.
    why = message ? "sent an unexpected message after Hello"
                  : "sent garbage: " + message.error().message;
    return Input::Misbehaved;
}

}  // namespace shmframe
