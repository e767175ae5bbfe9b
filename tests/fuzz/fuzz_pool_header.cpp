// SPDX-License-Identifier: LGPL-2.1-or-later
// libFuzzer target: layout::readHeader() and layout::readControlBlock(), what a reader
// makes of the bytes a writer put in shared memory.
//
// The input is tried twice: as a whole pool, and as the first bytes of a pool of the
// size its header claims (up to 1 MiB, the rest zero), which reaches the checks past
// 'poolSize'. Whatever readHeader() accepts must describe regions inside the pool: the
// target then reads the last byte of every slot's header, user metadata and frame,
// so AddressSanitizer reports any description that points outside.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pool_layout.h"

using namespace shmframe;

namespace {

constexpr std::uint64_t kMaxClaimedPool = 1u << 20;

// A broken invariant: say which, then abort (libFuzzer saves the input).
void fail(const char* what, int line) {
    std::fprintf(stderr, "invariant broken at line %d: %s\n", line, what);
    std::abort();
}
#define check(condition) ((condition) ? void() : fail(#condition, __LINE__))

std::uint8_t touch(const std::byte* pool, std::uint64_t offset) {
    return static_cast<std::uint8_t>(*static_cast<const volatile std::byte*>(pool + offset));
}

void tryPool(const std::byte* pool, std::size_t size) {
    auto description = layout::readHeader(pool, size);
    if (!description) {
        const Errc code = description.error().code;
        check(code == Errc::BadPool || code == Errc::ProtocolMismatch);
        check(!description.error().message.empty());
        return;
    }
    const auto& g = description->geometry;
    const Format& format = description->format;
    check(g.poolSize == size);
    check(g.slotCount >= layout::kMinSlots && g.slotCount <= layout::kMaxSlots);
    check(description->leaseLimit >= 1 && description->leaseLimit <= layout::kMaxLeases);
    check(format.validate().hasValue());
    check(format.frameSize <= g.slotDataStride);
    check(g.userMetaSize <= g.userMetaStride);
    unsigned sum = 0;
    for (std::uint32_t slot = 0; slot < g.slotCount; ++slot) {
        const std::uint64_t slotHeader = g.slotTableOffset + std::uint64_t{slot} * 64;
        sum += touch(pool, slotHeader + 63);
        if (g.userMetaSize > 0) {
            sum += touch(pool, g.userMetaOffset + slot * g.userMetaStride + g.userMetaSize - 1);
        }
        const std::uint64_t frame = g.slotDataOffset + slot * g.slotDataStride;
        sum += touch(pool, frame + format.frameSize - 1);
        for (std::uint32_t p = 0; p < format.planeCount; ++p) {
            sum += touch(pool, frame + format.planes[p].offset + format.planes[p].size - 1);
        }
    }
    static volatile unsigned sink;
    sink = sum;  // keeps the reads
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto* bytes = reinterpret_cast<const std::byte*>(data);
    tryPool(bytes, size);

    if (size >= offsetof(layout::PoolHeader, poolSize) + sizeof(std::uint64_t)) {
        std::uint64_t claimed = 0;
        std::memcpy(&claimed, data + offsetof(layout::PoolHeader, poolSize), sizeof(claimed));
        if (claimed > size && claimed <= kMaxClaimedPool) {
            std::vector<std::byte> pool(claimed);  // exactly the claimed size: ASan sees past it
            std::memcpy(pool.data(), data, size);
            tryPool(pool.data(), pool.size());
        }
    }

    auto leaseCount = layout::readControlBlock(bytes, size);
    if (leaseCount) {
        check(*leaseCount >= 1 && *leaseCount <= layout::kMaxLeases);
    }
    return 0;
}
