// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file frame_meta.h
 * \brief Per-frame metadata that travels with every published frame.
 */
#pragma once

#include <cstdint>

namespace shmframe {

/// \brief "No timestamp", as GST_CLOCK_TIME_NONE.
inline constexpr std::uint64_t kNoTimestamp = ~std::uint64_t{0};

/// \brief Frame flags (a bit set; values match nothing external on purpose).
enum FrameFlags : std::uint32_t {
    kFrameFlagNone = 0,
    kFrameFlagDiscont = 1u << 0,     ///< first frame after a discontinuity
    kFrameFlagKeyframe = 1u << 1,    ///< not a delta unit
    kFrameFlagGap = 1u << 2,         ///< placeholder frame, no real content
    kFrameFlagInterlaced = 1u << 3,  ///< the frame is interlaced
};

/// \brief What the writer says about one frame, plus what the library stamps.
struct FrameMeta {
    std::uint64_t pts = kNoTimestamp;       ///< presentation time, ns (writer's clock)
    std::uint64_t dts = kNoTimestamp;       ///< decoding time, ns
    std::uint64_t duration = kNoTimestamp;  ///< ns
    std::uint32_t flags = kFrameFlagNone;   ///< FrameFlags
    /// Set by publish(): 1, 2, 3 ... for each writer session.
    std::uint64_t sequence = 0;
    /// Set by publish(): CLOCK_MONOTONIC ns at publication.
    std::uint64_t publishTimeNs = 0;
};

}  // namespace shmframe
