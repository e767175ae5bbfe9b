// SPDX-License-Identifier: LGPL-2.1-or-later
#include "feed_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace shmframe::feed_dir {
namespace {

bool trustedOwner(uid_t owner) {
    return owner == ::getuid() || owner == ::geteuid() || owner == 0;
}

Error refuse(const std::string& dir, const std::string& why) {
    return Error::make(Errc::PermissionDenied,
                       "feed directory " + dir + " " + why +
                           ": someone else could publish feeds in your name there; remove it "
                           "or set SHMFRAME_DIR to a directory of your own");
}

}  // namespace

Result<void> checkNamed(const std::string& dir) {
    if (dir.empty() || dir.front() != '/') {
        return Error::make(Errc::InvalidArgument,
                           "SHMFRAME_DIR is '" + dir +
                               "', not an absolute path: writers and readers started in other "
                               "directories would not meet there; set it to an absolute path");
    }
    return {};
}

Result<void> check(const std::string& dir, Origin origin) {
    if (auto named = checkNamed(dir); !named) {
        return named;
    }
    struct stat link {};
    if (::lstat(dir.c_str(), &link) != 0) {
        return Error::make(errno == EACCES ? Errc::PermissionDenied : Errc::SystemError,
                           "cannot look at the feed directory " + dir, errno);
    }
    if (S_ISLNK(link.st_mode) && !trustedOwner(link.st_uid)) {
        return refuse(dir, "is a symlink made by uid " + std::to_string(link.st_uid));
    }
    struct stat info {};
    if (::stat(dir.c_str(), &info) != 0) {
        return Error::make(Errc::SystemError, "cannot look at the feed directory " + dir, errno);
    }
    if (!S_ISDIR(info.st_mode)) {
        return Error::make(Errc::SystemError, "feed directory " + dir + " is not a directory");
    }
    if (!trustedOwner(info.st_uid)) {
        return refuse(dir, "belongs to uid " + std::to_string(info.st_uid) + ", not to you (uid " +
                               std::to_string(::getuid()) + ") nor root");
    }
    if (origin == Origin::Implicit && (info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
        return refuse(dir, std::string("is writable by others (mode ") + mode + ")");
    }
    return {};
}

}  // namespace shmframe::feed_dir
