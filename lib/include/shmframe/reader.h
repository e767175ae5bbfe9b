// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file reader.h
 * \brief The reading side of a feed: read-only views of frames where they lie.
 *
 * \code
 * auto reader = shmframe::Reader::open("cam0");
 * while (true) {
 *     auto frame = reader->next(std::chrono::seconds(1));
 *     if (!frame) { ... frame.error().code: Timeout, EndOfStream, WriterGone ... }
 *     use(frame->plane(0));   // no copy: the writer's memory, mapped read-only
 * }                           // the lease is released when the Frame is destroyed
 * \endcode
 *
 * For event loops, reader.fd() becomes readable whenever next() has something to
 * say (a frame, end of stream, writer gone, writer back); call next(0) until it
 * returns WouldBlock, then wait on the fd again.
 *
 * A Reader is used from one thread at a time; its Frames may be released from any
 * thread.
 */
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/error.h"
#include "shmframe/format.h"
#include "shmframe/frame_meta.h"
#include "shmframe/writer_policy.h"

namespace shmframe {

class FrameCursor;  // the library's own: hands out frames

/// \brief Which frames a reader gets.
enum class ReadMode : std::uint32_t {
    Latest = 0,      ///< always the newest frame; frames in between are counted as skipped
    Sequential = 1,  ///< every frame in order while the reader keeps up; gaps counted
};

std::string_view toString(ReadMode mode);
std::optional<ReadMode> readModeFromString(std::string_view name);

/// \brief How next() waits.
enum class WaitMode : std::uint8_t {
    Block,  ///< sleep until woken (default)
    Spin,   ///< busy-poll the shared header: lowest latency, one core busy
    /**
     * Sleep until just before the next frame is due, then spin for it briefly; sleep
     * as in Block when it does not come within the spin window. The period is the
     * format's frame rate, else learnt from the frames' publish times; the window
     * follows their jitter and is at most a quarter of the period (and 2 ms). After
     * windows without a frame, or on an irregular feed, it blocks for a while. Spin's
     * latency for frames that come on time, at a small fraction of its CPU.
     */
    Paced,
};

std::string_view toString(WaitMode mode);
std::optional<WaitMode> waitModeFromString(std::string_view name);

/// \brief Where a reader stands with its writer.
enum class ReaderState : std::uint8_t {
    Connected,         ///< a writer serves us
    WaitingForWriter,  ///< no writer yet (or again): watching the feed dir
    EndOfStream,       ///< the writer signalled EOS and we delivered every frame before it
};

std::string_view toString(ReaderState state);

struct ReaderOptions {
    ReadMode mode = ReadMode::Latest;
    WaitMode wait = WaitMode::Block;
    /// open() succeeds without a writer and next() waits for one.
    bool waitForWriter = false;
    /// After the writer goes, wait for the next one (watching the feed dir).
    bool reconnect = true;
    /// A name the writer logs for this reader.
    std::string clientName{};
    /**
     * Writers we accept besides our own uid and root. The kernel tells who made the
     * socket we connect to (SO_PEERCRED); by default a writer of another uid is
     * refused (PermissionDenied naming its uid), so that nobody can publish a feed in
     * our name. List the uids of deliberately shared feeds here (or, for programs
     * that do not set this, in $SHMFRAME_TRUSTED_WRITERS: "1001,1002", or "any").
     */
    std::vector<uid_t> trustedWriterUids{};
    /// Accept a writer of any uid (only for a feed dir you trust to be yours alone).
    bool acceptAnyWriter = false;
    /**
     * Frames this reader wants to hold at once (1 to 16) without getting copies, for
     * readers that queue frames (a GStreamer queue downstream). 0 takes the writer's
     * lease limit. The writer grants more than its limit only while it keeps free slots
     * (at most its slot count - 2); WriterInfo::leaseLimit says what was granted.
     */
    std::uint32_t leases = 0;
};

/// \brief Counters of one reader.
struct ReaderStats {
    std::uint64_t received = 0;       ///< frames delivered by next()
    std::uint64_t skipped = 0;        ///< latest mode: newer frames replaced these before we looked
    std::uint64_t gaps = 0;           ///< sequential mode: frames overwritten before we read them
    std::uint64_t copies = 0;         ///< frames delivered as a private copy (lease limit reached)
    std::uint64_t revoked = 0;        ///< leases the writer took back (every slot was pinned)
    std::uint64_t reconnects = 0;     ///< writers connected after the first
    std::uint64_t writerGone = 0;     ///< times the writer hung up
    std::uint64_t formatChanges = 0;  ///< pool generations moved to (including new writers)
    std::uint64_t endOfStreams = 0;
    std::uint64_t pacedHits = 0;    ///< WaitMode::Paced: frames that came while it spun for them
    std::uint64_t pacedMisses = 0;  ///< WaitMode::Paced: spin windows that ended without a frame
};

/// \brief Who we are connected to now.
struct WriterInfo {
    pid_t pid = 0;
    std::uint64_t sessionId = 0;  ///< changes with every writer (re)start
    std::uint32_t generation = 0;
    WriterPolicy policy = WriterPolicy::NeverBlock;
    std::uint32_t slotCount = 0;
    /// Frames this reader may hold at once: what the writer granted it.
    std::uint32_t leaseLimit = 0;
    std::uint64_t published = 0;  ///< live count from the shared header
    std::uint32_t readers = 0;    ///< live count from the shared header
};

/**
 * \brief A read-only view of one published frame, in the writer's memory.
 * Holds a lease that keeps the writer from reusing the slot until destroyed
 * (or a private copy when the lease limit was reached). Move-only.
 */
class Frame {
  public:
    Frame() = default;
    Frame(Frame&&) noexcept;
    Frame& operator=(Frame&&) noexcept;
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;
    ~Frame();

    bool valid() const { return data_ != nullptr; }
    const Format& format() const { return *format_; }
    const FrameMeta& meta() const { return meta_; }
    std::span<const std::byte> plane(std::uint32_t index) const;
    std::span<const std::byte> bytes() const { return {data_, size_}; }
    std::span<const std::byte> userMeta() const { return {userMeta_, userMetaLength_}; }
    /// \brief True when the frame is a private copy instead of a view of the slot.
    bool isCopy() const { return copy_ != nullptr; }
    /**
     * \brief False if the writer revoked the lease because every slot was pinned
     * (never-block policy, more readers pinning more frames than slots), or let
     * the reader go (dropped it, or the reader hung up) while it held the frame:
     * the pixels may then be overwritten. Check after reading to detect it.
     */
    bool leaseIntact() const;
    /// \brief Writer session and pool generation this frame came from.
    std::uint64_t writerSession() const { return session_; }
    std::uint32_t generation() const { return generation_; }

    /// \brief Releases the lease now (same as destroying the frame).
    void release() noexcept;

  private:
    friend class FrameCursor;
    std::shared_ptr<const void> keepAlive_;  // the pool mapping and control block
    std::shared_ptr<std::byte[]> copy_;      // set for private copies
    const Format* format_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    const std::byte* userMeta_ = nullptr;
    std::uint32_t userMetaLength_ = 0;
    FrameMeta meta_;
    void* leaseWord_ = nullptr;  // std::atomic<uint64_t>* in the reader's control block
    std::uint64_t session_ = 0;
    std::uint32_t generation_ = 0;
};

/// \brief The reader of one feed. Move-only.
class Reader {
  public:
    /**
     * \brief Connects to the feed's writer.
     * \return InvalidFeedName; NoWriter ("no writer for feed 'cam0' (looked in DIR)")
     * unless options.waitForWriter; PermissionDenied; ProtocolMismatch; BadMessage;
     * BadPool (names the field that failed validation).
     */
    static Result<Reader> open(std::string_view feed, ReaderOptions options = {});

    Reader(Reader&&) noexcept;
    Reader& operator=(Reader&&) noexcept;
    ~Reader();

    /**
     * \brief The next frame (by the read mode), waiting up to \a timeout.
     * Other outcomes, each reported once, as the Error's code:
     * EndOfStream (the writer signalled EOS), WriterGone (the writer hung up; we
     * reconnect if options.reconnect), Dropped (the writer dropped us; message says
     * why), Timeout, WouldBlock (timeout 0 and nothing new), NoWriter (after
     * WriterGone when reconnect is off), Interrupted (interrupt() was called). BadPool or
     * BadMessage for a broken writer.
     */
    Result<Frame> next(std::chrono::nanoseconds timeout);
    /// \brief next(0).
    Result<Frame> tryNext() { return next(std::chrono::nanoseconds(0)); }

    /**
     * \brief Makes a next() that is waiting (or the next one to wait) return
     * Interrupted at once. The one Reader call that is safe from another thread:
     * for a GStreamer unlock(), or to stop a reading thread.
     */
    void interrupt();

    /// \brief A poll()-able fd, readable when next() has something to say.
    int fd() const;

    ReaderState state() const;
    /// \brief The current pool's format; nullopt while no writer serves us.
    std::optional<Format> format() const;
    ReaderStats stats() const;
    std::optional<WriterInfo> writer() const;
    const std::string& feedName() const;
    const std::string& socketPath() const;
    /// \brief The directory holding the feed's socket: where the reader waits for a
    /// writer to appear (the feed dir, or the folder of an absolute socket path).
    const std::string& directory() const;

  private:
    struct Impl;
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace shmframe
