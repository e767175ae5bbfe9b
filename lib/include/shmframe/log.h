// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file log.h
 * \brief Where the library's log lines go.
 *
 * By default warnings and errors go to stderr; SHMFRAME_DEBUG=1 adds info and
 * debug lines. Front ends route them into their own logging (the GStreamer
 * plugin into its debug category).
 *
 * Logging never blocks the transport: the default handler hands each line to a
 * thread of the library that writes stderr, and returns at once. While stderr
 * does not take lines (a pipe nobody reads, a stuck log collector) a bounded
 * backlog is kept and further lines are counted and reported later as
 * "shmframe warning: N log lines dropped". At exit, queued lines get up to half
 * a second to be written. A handler you install runs on the thread that logs
 * (the writer's service thread among them), so it must not block either.
 */
#pragma once

#include <functional>
#include <string_view>

namespace shmframe {

enum class LogLevel { Debug, Info, Warning, Error };

using LogHandler = std::function<void(LogLevel, std::string_view message)>;

/// \brief Replaces the log handler for the whole process; an empty one restores stderr.
void setLogHandler(LogHandler handler);

/// \brief Logs through the installed handler (used by the library and front ends).
void log(LogLevel level, std::string_view message);

}  // namespace shmframe
