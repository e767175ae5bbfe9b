// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file writer_policy.h
 * \brief How a writer treats readers that fall behind (shared by writer.h and reader.h).
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace shmframe {

/// \brief How the writer treats readers that fall behind.
enum class WriterPolicy : std::uint32_t {
    /// No reader ever delays the writer; slow readers skip frames (default).
    NeverBlock = 0,
    /// The writer waits for sequential readers to consume each frame, up to
    /// WriterOptions::losslessTimeout, then drops the laggard with a logged reason.
    Lossless = 1,
};

/// \brief "never-block" or "lossless".
std::string_view toString(WriterPolicy policy);
/// \brief The policy named \a name ("never-block", "lossless"), or nullopt.
std::optional<WriterPolicy> writerPolicyFromString(std::string_view name);

}  // namespace shmframe
