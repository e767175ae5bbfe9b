// SPDX-License-Identifier: LGPL-2.1-or-later
// Which feed directory we trust: one check, made by the writer before it creates its
// socket there and by every reader before it connects to one.
#pragma once

#include <string>

#include "shmframe/error.h"

namespace shmframe::feed_dir {

/// How the feed directory was named.
enum class Origin {
    Implicit,  ///< $XDG_RUNTIME_DIR/shmframe or the shared fallback ${TMPDIR:-/tmp}/shmframe-<uid>
    Chosen,    ///< $SHMFRAME_DIR: the user named it, it may be deliberately shared
};

/// The feed directory's name alone: an absolute path (a relative SHMFRAME_DIR would
/// name another directory for each process). InvalidArgument saying so.
Result<void> checkNamed(const std::string& dir);

/**
 * Checks the feed directory \a dir before we use it (it exists; checkNamed() first):
 * - it is a directory, owned by us or by root; a symlink to it is owned by us or
 *   root too (a symlink an attacker left in /tmp points us nowhere);
 * - an Implicit one is writable by nobody else (no group or other write bit): anyone
 *   who may write there could put their own feeds in our name.
 * PermissionDenied with a message naming the directory, its owner and what to do.
 */
Result<void> check(const std::string& dir, Origin origin);

}  // namespace shmframe::feed_dir
