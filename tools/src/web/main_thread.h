// SPDX-License-Identifier: LGPL-2.1-or-later
// Handing work from GStreamer's and the readers' threads to the GLib main loop,
// where every object of `shmframe web` lives.
#pragma once

#include <functional>
#include <memory>

namespace shmframe::cli::web {

/// Runs \a work later on the default main context (never at once, even when called
/// from the main thread), unless \a owner is gone by then.
void postToMainThread(std::weak_ptr<void> owner, std::function<void()> work);

}  // namespace shmframe::cli::web
