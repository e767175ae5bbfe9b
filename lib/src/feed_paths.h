// SPDX-License-Identifier: LGPL-2.1-or-later
// Where a feed lives on disk, and the rendezvous steps both sides share.
#pragma once

#include <string>
#include <string_view>

#include "shmframe/clock.h"
#include "shmframe/error.h"
#include "shmframe/reader.h"
#include "unique_fd.h"

namespace shmframe {

struct FeedPaths {
    std::string name;        // as the user gave it
    std::string dir;         // the folder holding the socket
    std::string socket;      // <dir>/<name>.sock, or the absolute path given
    std::string lock;        // <socket minus .sock>.lock: flock'ed by the live writer
    std::string socketFile;  // base name of the socket, for inotify
};

/// Whether resolveFeed() creates the feed dir (writers, readers that wait) or not.
enum class FeedDir { Create, DoNotCreate };

/// Validates the name and computes the paths. The feed dir of a named feed is checked
/// (feed_dir::check()) either way; an absolute socket path names its dir itself, and
/// only the writer's credentials are checked.
Result<FeedPaths> resolveFeed(std::string_view feed, FeedDir dir);

/// Connects a SOCK_SEQPACKET socket to the writer. NoWriter when nobody listens (the
/// message says where we looked), PermissionDenied when the OS refuses or the writer
/// is not one \a trust accepts (checkWriterCredentials()).
Result<UniqueFd> connectToWriter(const FeedPaths& paths, const ReaderOptions& trust = {});

}  // namespace shmframe
