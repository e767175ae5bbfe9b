// SPDX-License-Identifier: LGPL-2.1-or-later
// Which writers a reader trusts: the kernel's word (SO_PEERCRED) on who made the
// socket we connected to, checked before we read a byte from it.
#pragma once

#include <sys/types.h>

#include <string>

#include "shmframe/error.h"
#include "shmframe/reader.h"

namespace shmframe {

/**
 * Checks the writer behind the connected socket \a fd: its uid must be ours, root's,
 * one of options.trustedWriterUids, or anything with options.acceptAnyWriter; or one
 * that $SHMFRAME_TRUSTED_WRITERS lists (comma-separated uids, or "any"), so that every
 * front end (CLI, viewer, shmframesrc, Python) can read a deliberately shared feed.
 * PermissionDenied otherwise, naming the writer's uid and pid and \a dir (where the
 * socket was found).
 */
Result<void> checkWriterCredentials(int fd, const ReaderOptions& options, const std::string& dir);

/// The pid of the process behind the connected socket \a fd (SO_PEERCRED), 0 if unknown.
pid_t peerPid(int fd);

}  // namespace shmframe
