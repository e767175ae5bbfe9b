// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file writer.h
 * \brief The writing side of a feed: a pool of frame slots in sealed shared memory.
 *
 * \code
 * auto format = shmframe::Format::make(shmframe::PixelFormat::RGBA, 1280, 720);
 * auto writer = shmframe::Writer::create("cam0", *format);
 * auto frame = writer->loan();                       // a writable slot
 * fill(frame->plane(0));                             // write pixels in place
 * writer->publish(std::move(*frame), {.pts = pts});  // readers see it from now on
 * \endcode
 *
 * A Writer and its LoanedFrames may be used from several threads; loan() and
 * publish() of one writer are serialised internally.
 */
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/error.h"
#include "shmframe/format.h"
#include "shmframe/frame_meta.h"
#include "shmframe/loaned_frame.h"
#include "shmframe/writer_policy.h"

namespace shmframe {

/// \brief Who may read a feed. Same uid only by default; root may always read.
struct AccessPolicy {
    bool anyUser = false;            ///< anyone who can reach the socket
    std::vector<uid_t> allowedUids;  ///< extra uids allowed
    std::vector<gid_t> allowedGids;  ///< peers whose primary gid is listed are allowed
    /// \brief Parses "uid" | "any" | "uid:1000,1001" | "gid:44".
    static Result<AccessPolicy> parse(std::string_view text);
    /// \brief The policy as parse() reads it ("uid", "any", "uid uid:1000").
    std::string describe() const;
    /// \brief Whether a peer with \a uid and primary \a gid may read.
    bool allows(uid_t uid, gid_t gid) const;
};

/// \brief Something that happened to a reader of this writer.
struct ReaderEvent {
    enum class Kind { Connected, Disconnected, Dropped } kind;
    std::uint32_t readerId = 0;
    pid_t pid = 0;
    uid_t uid = 0;
    std::string reason;  ///< for Disconnected / Dropped
};

/// \brief How a writer's pool and readers are set up.
struct WriterOptions {
    std::uint32_t slotCount = 4;  ///< frame slots in the pool (3 to 64)
    WriterPolicy policy = WriterPolicy::NeverBlock;
    std::uint32_t leaseLimit = 2;  ///< frames one reader may hold at once (1 to 16)
    std::chrono::milliseconds losslessTimeout{1000};
    std::uint32_t userMetaSize = 256;  ///< bytes of user metadata per frame (0 to 65536)
    std::uint32_t maxReaders = 64;
    AccessPolicy access;
    /// Called from the writer's service thread (or from loan() when lossless drops a
    /// reader); must not call back into the Writer.
    std::function<void(const ReaderEvent&)> onReaderEvent;
};

/// \brief Counters of a writer session.
struct WriterStats {
    std::uint64_t published = 0;
    std::uint64_t loanFailures = 0;      ///< loan() found no free slot
    std::uint64_t revokedLeases = 0;     ///< leases taken back when every slot was pinned
    std::uint32_t readers = 0;           ///< connected now
    std::uint64_t readersConnected = 0;  ///< ever connected
    std::uint64_t readersDropped = 0;    ///< dropped (lossless timeout, protocol errors)
    std::uint32_t generation = 0;
};

/// \brief The writer of one feed. Move-only; destroying it ends the feed cleanly.
class Writer {
  public:
    /**
     * \brief Creates the pool and starts serving readers on the feed's socket.
     * \return InvalidFeedName, WriterExists (names the live writer's pid),
     * InvalidArgument (format or options), SystemError.
     */
    static Result<Writer> create(std::string_view feed, const Format& format,
                                 WriterOptions options = {});

    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) noexcept;
    ~Writer();

    /**
     * \brief Loans a free slot. Never-block: never waits; Lossless: waits up to the
     * timeout for the slowest sequential reader, then drops it.
     * \return WouldBlock when every slot is loaned by this writer already.
     */
    Result<LoanedFrame> loan();

    /**
     * \brief Publishes a loaned frame: readers see it from now on. Sequence number
     * and publish time are stamped; pts/dts/duration/flags come from \a meta.
     * \return InvalidArgument for a frame of another writer or an old pool generation.
     */
    Result<void> publish(LoanedFrame&& frame, const FrameMeta& meta = {});

    /**
     * \brief Publishes \a frame but keeps its slot on loan until the returned
     * RetainedFrame is destroyed, for frames other code still references after
     * publication (a GstBuffer that a tee also holds): the writer does not reuse the
     * slot before then. The RetainedFrame offers read-only planes: readers are
     * looking at it. On error \a frame is left as it was.
     */
    Result<RetainedFrame> publishRetained(LoanedFrame&& frame, const FrameMeta& meta = {});

    /// \brief Copies \a data (a frame in this writer's layout) into a slot and publishes it.
    Result<void> publishCopy(std::span<const std::byte> data, const FrameMeta& meta = {});

    /**
     * \brief Switches to a new format: a new pool generation. Readers move to it;
     * frames they hold from the old pool stay valid. Outstanding loans of the old
     * pool can no longer be published.
     */
    Result<void> reconfigure(const Format& format);

    /// \brief Signals end of stream; readers see it after the frames before it.
    /// Publishing again starts a new stream.
    Result<void> endOfStream();

    /// \brief Ends the feed now: EOS, hang-up, socket removed. The destructor does this.
    void close();

    Format format() const;
    const std::string& feedName() const;
    const std::string& socketPath() const;
    WriterStats stats() const;

  private:
    struct Impl;
    explicit Writer(std::unique_ptr<Impl> impl);
    enum class Retention { ReturnSlot, KeepSlot };
    Result<void> publishFrame(LoanedFrame& frame, const FrameMeta& meta, Retention retention);
    std::unique_ptr<Impl> impl_;
};

}  // namespace shmframe
