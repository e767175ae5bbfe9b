// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader's link to a writer: connecting to the feed's socket, the Hello/Welcome
// handshake, and checking everything the writer hands over (the control block, the
// wake-up listener, the pool) before a reader uses any of it. A probe is the same
// handshake, answered with the pool alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "feed_paths.h"
#include "mapping.h"
#include "pool_layout.h"
#include "pool_mapping.h"
#include "protocol.h"
#include "shmframe/error.h"
#include "shmframe/reader.h"
#include "unique_fd.h"

namespace shmframe {

/// The reader's control block and wake-up listener: what its frames' leases live in.
struct ReaderControl {
    UniqueFd fd;
    Mapping mapping;
    layout::ControlBlock* block = nullptr;
    std::uint32_t leaseCount = 0;
    UniqueFd wake;  // the writer's wake-up listener (an epoll instance: wake_channel.h)
    std::shared_ptr<std::atomic<std::uint64_t>> revoked;  // counted as frames let go

    /// Tells the writer (for a probe's ReaderTable) that we took frame \a sequence,
    /// passing over \a missed frames before it. Three plain stores; nothing waits.
    void noteDelivered(std::uint64_t sequence, std::uint64_t missed) {
        receivedHere += 1;
        missedHere += missed;
        block->delivered.store(sequence, std::memory_order_relaxed);
        block->received.store(receivedHere, std::memory_order_relaxed);
        block->missed.store(missedHere, std::memory_order_relaxed);
    }
    std::uint64_t receivedHere = 0;  // on this connection; our own count, not the block's
    std::uint64_t missedHere = 0;
};

/// One pool generation as a reader holds it: read-only, with the control block its
/// leases are in. Frames keep it alive.
struct ReaderPool {
    PoolMapping pool;
    std::shared_ptr<ReaderControl> control;
};

/// A connection made and checked.
struct ReaderLink {
    /// How the reader reads: the writer needs to know whether to wait for it.
    enum class Mode { Latest, Sequential };

    /**
     * Connects to the feed's writer and takes its Welcome: NoWriter when nobody
     * listens (a dead writer's files are removed on the way), Timeout, PermissionDenied
     * (also for a writer that \a options do not accept: checkWriterCredentials()),
     * ProtocolMismatch, BadMessage or BadPool naming what was wrong.
     */
    static Result<ReaderLink> connect(const FeedPaths& paths, Mode mode,
                                      const std::string& clientName,
                                      std::shared_ptr<std::atomic<std::uint64_t>> revoked,
                                      const ReaderOptions& options);

    /**
     * What the writer said since: a new pool generation (NewPool, mapped and checked to
     * be this writer's, BadPool if not), or WouldBlock (nothing), WriterGone (it hung
     * up), Dropped (its Goodbye's text), BadMessage.
     */
    Result<std::shared_ptr<const ReaderPool>> receivePool(const ReaderPool& current) const;

    UniqueFd socket;
    std::shared_ptr<ReaderControl> control;
    std::shared_ptr<const ReaderPool> pool;  // the first generation, for the reader to take
};

/// Who serves \a pool, as the public API tells it (the live counters left at 0).
WriterInfo writerInfoOf(const ReaderPool& pool);

/// What a probe learns: the Welcome, the pool's header (mapped alone) and the
/// writer's table of its readers (none from a writer that predates it).
struct ProbeAnswer {
    protocol::Welcome welcome{};
    PoolMapping header;
    std::optional<protocol::ReaderTable> readers;
};

/// Connects as a probe: not counted as a reader, answered with the pool only.
Result<ProbeAnswer> probeWriter(const FeedPaths& paths);

}  // namespace shmframe
