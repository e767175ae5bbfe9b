// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file feed_watch.h
 * \brief Watching the feed directory: feeds that appear, change and go.
 *
 * \code
 * auto watch = shmframe::FeedWatch::open();
 * // poll(watch->fd(), POLLIN) — or QSocketNotifier, or g_unix_fd_add()
 * for (const auto& event : watch->update()) {
 *     // event.kind: Appeared, Changed (format, generation, writer) or Gone
 * }
 * \endcode
 *
 * The fd becomes readable when the feed dir changes (inotify) and at every
 * rescan interval (a timer, so that format changes and writers that die without
 * removing their socket are noticed too). update() never blocks for long: it
 * probes each feed whose socket is there.
 */
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shmframe/error.h"
#include "shmframe/feed.h"

namespace shmframe {

/// \brief One change seen by a FeedWatch.
struct FeedEvent {
    enum class Kind : std::uint8_t {
        Appeared,  ///< a live writer publishes a feed that was not listed
        Changed,   ///< a listed feed has a new format, pool generation or writer
        Gone,      ///< a listed feed's writer is gone
    };
    Kind kind = Kind::Appeared;
    /// The feed as probed now (Appeared, Changed) or as last seen (Gone).
    FeedInfo feed;
};

std::string_view toString(FeedEvent::Kind kind);

struct FeedWatchOptions {
    /// How often every feed is probed again even when the directory is quiet.
    std::chrono::milliseconds rescanInterval{1000};
};

/// \brief Reports the feeds of the feed directory as writers come and go.
class FeedWatch {
  public:
    /// \brief Watches feedDirectory(). Works before the directory exists.
    static Result<FeedWatch> open(const FeedWatchOptions& options = {});

    FeedWatch(FeedWatch&&) noexcept;
    FeedWatch& operator=(FeedWatch&&) noexcept;
    ~FeedWatch();

    /// \brief Readable when update() has something to look at; never read it yourself.
    int fd() const noexcept;

    /// \brief Rescans the directory and returns what changed since the last call.
    /// The first call reports every live feed as Appeared.
    std::vector<FeedEvent> update();

    /// \brief The live feeds as of the last update(), sorted by name.
    const std::vector<FeedInfo>& feeds() const noexcept;

    /// \brief The directory watched.
    const std::string& directory() const noexcept;

  private:
    struct State;
    explicit FeedWatch(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace shmframe
