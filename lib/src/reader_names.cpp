// SPDX-License-Identifier: LGPL-2.1-or-later
// The names of the reader's read and wait modes and states, as options, logs and the CLI spell
// them.
#include "shmframe/reader.h"

namespace shmframe {

std::string_view toString(ReadMode mode) {
    return mode == ReadMode::Sequential ? "sequential" : "latest";
}

std::optional<ReadMode> readModeFromString(std::string_view name) {
    if (name == "latest") {
        return ReadMode::Latest;
    }
    if (name == "sequential") {
        return ReadMode::Sequential;
    }
    return std::nullopt;
}

std::string_view toString(WaitMode mode) {
    switch (mode) {
        case WaitMode::Block:
            return "block";
        case WaitMode::Spin:
            return "spin";
        case WaitMode::Paced:
            return "paced";
    }
    return "unknown";
}

std::optional<WaitMode> waitModeFromString(std::string_view name) {
    for (const WaitMode mode : {WaitMode::Block, WaitMode::Spin, WaitMode::Paced}) {
        if (name == toString(mode)) {
            return mode;
        }
    }
    return std::nullopt;
}

std::string_view toString(ReaderState state) {
    switch (state) {
        case ReaderState::Connected:
            return "connected";
        case ReaderState::WaitingForWriter:
            return "waiting for writer";
        case ReaderState::EndOfStream:
            return "end of stream";
    }
    return "unknown";
}

}  // namespace shmframe
