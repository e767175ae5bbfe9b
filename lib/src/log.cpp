// SPDX-License-Identifier: LGPL-2.1-or-later
#include "shmframe/log.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "stderr_sink.h"

namespace shmframe {
namespace {

std::mutex& handlerMutex() {
    static std::mutex mutex;
    return mutex;
}

LogHandler& installedHandler() {
    static LogHandler handler;
    return handler;
}

bool verboseFromEnvironment() {
    const char* value = std::getenv("SHMFRAME_DEBUG");
    return value && *value && std::string_view(value) != "0";
}

void logToStderr(LogLevel level, std::string_view message) {
    static const bool verbose = verboseFromEnvironment();
    if (!verbose && (level == LogLevel::Debug || level == LogLevel::Info)) {
        return;
    }
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::string line = "shmframe ";
    line += kNames[static_cast<int>(level)];
    line += ": ";
    line += message;
    line += '\n';
    stderr_sink::post(std::move(line));
}

}  // namespace

void setLogHandler(LogHandler handler) {
    std::lock_guard lock(handlerMutex());
    installedHandler() = std::move(handler);
}

void log(LogLevel level, std::string_view message) {
    LogHandler handler;
    {
        std::lock_guard lock(handlerMutex());
        handler = installedHandler();
    }
    if (handler) {
        handler(level, message);
    } else {
        logToStderr(level, message);
    }
}

}  // namespace shmframe
