// SPDX-License-Identifier: LGPL-2.1-or-later
#include "dir_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shmframe {

DirWatch::DirWatch(std::string dir, Changes changes, UniqueFd inotify)
    : dir_(std::move(dir)), changes_(changes), inotify_(std::move(inotify)) {}

Result<DirWatch> DirWatch::create(std::string dir, Changes changes) {
    UniqueFd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!inotify) {
        return Error::fromErrno("inotify_init1", errno);
    }
    return DirWatch(std::move(dir), changes, std::move(inotify));
}

bool DirWatch::arm() {
    if (watch_ >= 0) {
        return true;
    }
    std::uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR;
    if (changes_ == Changes::All) {
        mask |= IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF;
    }
    watch_ = ::inotify_add_watch(inotify_.get(), dir_.c_str(), mask);
    return watch_ >= 0;
}

void DirWatch::disarm() {
    if (watch_ >= 0) {
        ::inotify_rm_watch(inotify_.get(), watch_);
        watch_ = -1;
    }
    drain();
}

DirWatch::Drained DirWatch::drain(std::string_view name) {
    Drained drained;
    alignas(inotify_event) char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(inotify_.get(), buffer, sizeof(buffer));
        if (got <= 0) {
            return drained;
        }
        for (ssize_t offset = 0; offset + ssize_t(sizeof(inotify_event)) <= got;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer + offset);
            const std::string_view eventName(event->name,
                                             event->len ? strnlen(event->name, event->len) : 0);
            if ((event->mask & (IN_Q_OVERFLOW | IN_IGNORED)) || name.empty() || eventName == name) {
                drained.relevant = true;
            }
            // An IN_IGNORED of a watch removed before is old news.
            if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) &&
                event->wd == watch_) {
                // The directory went (or moved away): the watch is no use any more.
                if (watch_ >= 0 && (event->mask & IN_IGNORED) == 0) {
                    ::inotify_rm_watch(inotify_.get(), watch_);
                }
                watch_ = -1;
                drained.lost = true;
            }
            offset += ssize_t(sizeof(inotify_event)) + event->len;
        }
    }
}

}  // namespace shmframe
