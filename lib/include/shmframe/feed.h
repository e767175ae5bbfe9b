// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed.h
 * \brief Feed names, the feed directory, and listing the live feeds.
 *
 * A feed is named by `[A-Za-z0-9._-]{1,64}` and lives as `<feed dir>/<name>.sock`.
 * The feed dir is `$SHMFRAME_DIR`, else `$XDG_RUNTIME_DIR/shmframe`, else
 * `${TMPDIR:-/tmp}/shmframe-<uid>`; it is created with mode 0700. An absolute
 * socket path is accepted wherever a feed name is.
 *
 * Writers and readers trust a feed dir only when it is a directory owned by them
 * or root (a symlink to it too) and, unless `$SHMFRAME_DIR` names it (a dir that
 * may be shared on purpose), nobody else may write to it. Readers accept only a
 * writer of their own uid or root (see ReaderOptions::trustedWriterUids).
 */
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/error.h"
#include "shmframe/format.h"

namespace shmframe {

/// \brief InvalidFeedName unless \a feed is a valid name or an absolute path.
Result<void> validateFeedName(std::string_view feed);

/// \brief The feed directory (not created).
std::string feedDirectory();

/// \brief The feed directory, created with mode 0700 if missing.
Result<std::string> ensureFeedDirectory();

/**
 * \brief PermissionDenied (naming the dir and its owner) when the feed directory
 * exists but is not one we trust; success when it is, or does not exist yet.
 */
Result<void> checkFeedDirectory();

/// \brief The socket path of a feed (validates the name).
Result<std::string> socketPathFor(std::string_view feed);

/**
 * \brief One reader of a feed, as its writer sees it (FeedInfo::readerTable).
 *
 * pid, uid, mode and leases are what the writer knows itself. lag, received and
 * drops are what the reader writes of itself into its control block: a reader of an
 * older shmframe does not (reportsProgress is false and they are 0), and a broken
 * reader may write anything there, so they describe that reader only, never the feed.
 */
struct FeedReader {
    std::uint32_t id = 0;  ///< the writer's number for it, as in the writer's log
    pid_t pid = 0;         ///< from the socket's credentials
    uid_t uid = 0;
    /// What the reader calls itself (ReaderOptions::clientName), in printable ASCII:
    /// any other byte shows as '?'.
    std::string clientName;
    bool sequential = false;          ///< sequential mode, else latest
    std::uint32_t leaseLimit = 0;     ///< frames it may hold at once (granted)
    std::uint32_t leasesHeld = 0;     ///< frames it holds now
    std::uint64_t revokedLeases = 0;  ///< its leases the writer took back
    bool reportsProgress = false;     ///< the three below are known
    std::uint64_t lag = 0;            ///< frames published since the last one it took
    std::uint64_t received = 0;       ///< frames it took on this connection
    std::uint64_t drops = 0;  ///< frames it never got: skipped (latest) or gaps (sequential)
};

/// \brief What a probe of a live feed tells.
struct FeedInfo {
    std::string name;        ///< feed name (or the socket path for absolute paths)
    std::string socketPath;  ///< where the writer listens
    Format format;           ///< the current pool's format
    pid_t writerPid = 0;
    std::uint32_t slotCount = 0;
    std::uint32_t leaseLimit = 0;
    std::uint32_t generation = 0;     ///< pool generation (format changes)
    std::string policy;               ///< "never-block" or "lossless"
    std::uint64_t published = 0;      ///< frames published in this writer session
    std::uint32_t readers = 0;        ///< readers connected now
    std::uint64_t lastPublishNs = 0;  ///< CLOCK_MONOTONIC of the last publish, 0 if none
    bool endOfStream = false;
    std::uint64_t poolBytes = 0;
    /**
     * False for a writer that holds its feed but does not answer (stopped with
     * SIGSTOP, or hung): only name, socketPath and writerPid are known then.
     */
    bool responding = true;
    /**
     * The readers connected now, at most 256 of them (readers counts them all). Empty
     * with readerTableKnown false when the writer predates reader tables.
     */
    std::vector<FeedReader> readerTable;
    bool readerTableKnown = false;
};

/// \brief Connects to a feed's writer as a probe (not counted as a reader).
Result<FeedInfo> probeFeed(std::string_view feed);

/**
 * \brief Lists the live feeds in the feed directory, sorted by name.
 * A writer that does not answer its probe is listed with responding = false.
 * Sockets whose writer died are removed on the way (their writer's lock is free).
 * Empty when the feed directory is not one we trust (checkFeedDirectory() says why).
 */
std::vector<FeedInfo> listFeeds();

}  // namespace shmframe
