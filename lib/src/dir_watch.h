// SPDX-License-Identifier: LGPL-2.1-or-later
// A watch on the feed dir (inotify): one fd to wait on, and after it is readable,
// whether something happened to a given name. The reader waits on it for its writer's
// socket to come back; FeedWatch for any feed to come or go. The directory may not
// exist yet: arm() says so, and the caller looks again later.
#pragma once

#include <string>
#include <string_view>

#include "shmframe/error.h"
#include "unique_fd.h"

namespace shmframe {

class DirWatch final {
  public:
    /// Which changes wake the fd.
    enum class Changes {
        Arrivals,  ///< a name appears or changes (created, moved in, attributes)
        All,       ///< also a name going away, and the directory itself going away
    };
    /// What drain() found.
    struct Drained {
        bool relevant = false;  ///< an event for the name asked about, or events were lost
        bool lost = false;      ///< the watch is gone (the directory went): arm() again
    };

    static Result<DirWatch> create(std::string dir, Changes changes);

    DirWatch(DirWatch&&) noexcept = default;
    DirWatch& operator=(DirWatch&&) noexcept = default;

    /// Readable when drain() has events.
    int fd() const { return inotify_.get(); }
    const std::string& dir() const { return dir_; }

    /// Watches the directory (again); false (errno set) when it cannot, e.g. it does
    /// not exist yet.
    bool arm();
    /// Stops watching and drops pending events.
    void disarm();
    bool armed() const { return watch_ >= 0; }

    /// Reads every pending event; \a name empty asks about any name.
    Drained drain(std::string_view name = {});

  private:
    DirWatch(std::string dir, Changes changes, UniqueFd inotify);

    std::string dir_;
    Changes changes_;
    UniqueFd inotify_;
    int watch_ = -1;
};

}  // namespace shmframe
