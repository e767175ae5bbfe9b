// SPDX-License-Identifier: LGPL-2.1-or-later
// The default destination of log lines: stderr, written by a thread of its own so that
// a stderr nobody reads never blocks the thread that logs.
#pragma once

#include <string>

namespace shmframe::stderr_sink {

/**
 * Queues \a line (a complete line, newline included) for stderr and returns at once.
 * The lines are written in order by a background thread started on first use; while
 * stderr does not take them (a full pipe nobody reads, a stuck log collector), at most
 * a bounded backlog is kept and the rest are counted, then reported as
 * "shmframe warning: N log lines dropped" once stderr takes lines again.
 */
void post(std::string line);

}  // namespace shmframe::stderr_sink
