// SPDX-License-Identifier: LGPL-2.1-or-later
// The bytes shared between a writer and its readers: the pool (header, slot table,
// user metadata, frame slots) and each reader's control block. Everything here is
// standard-layout, fixed-width and addressed by offsets, never pointers.
//
// Pool memfd (read-only for readers):
//
//   +--------------------+ 0
//   | PoolHeader         |  static part (written once before the fd is shared),
//   |                    |  then the live part (latest frame, EOS, counters)
//   +--------------------+ slotTableOffset
//   | SlotHeader[slots]  |  per slot: sequence (the seqlock word) and frame metadata
//   +--------------------+ userMetaOffset
//   | user meta [slots]  |  userMetaStride bytes per slot
//   +--------------------+ slotDataOffset (page aligned)
//   | slot 0 frame       |  slotDataStride bytes per slot (page aligned)
//   | slot 1 frame ...   |
//   +--------------------+ poolSize
//
// Control block memfd (one per reader, read-write for that reader and the writer):
// the reader's leases, its wake-up request and its progress.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "shmframe/error.h"
#include "shmframe/format.h"

namespace shmframe::layout {

inline constexpr std::uint64_t kPoolMagic = 0x454d4152464d4853ull;  // "SHMFRAME"
inline constexpr std::uint32_t kControlMagic = 0x4c544346;          // "FCTL"
// 2: FormatLayout carries the colorimetry.
inline constexpr std::uint32_t kLayoutVersion = 2;  // pinned below: sizes and offsets
inline constexpr std::uint64_t kPageSize = 4096;
inline constexpr std::uint32_t kMinSlots = 3;  // latest + one being written + one spare
inline constexpr std::uint32_t kMaxSlots = 64;
inline constexpr std::uint32_t kMaxLeases = 16;
inline constexpr std::uint32_t kMaxUserMeta = 65536;
inline constexpr std::size_t kControlBlockSize = 4096;

/// `latest` packs the sequence and the slot of the newest frame into one word.
inline constexpr unsigned kLatestSlotBits = 8;
inline constexpr std::uint64_t packLatest(std::uint64_t sequence, std::uint32_t slot) {
    return (sequence << kLatestSlotBits) | slot;
}
inline constexpr std::uint64_t latestSequence(std::uint64_t latest) {
    return latest >> kLatestSlotBits;
}
inline constexpr std::uint32_t latestSlot(std::uint64_t latest) {
    return static_cast<std::uint32_t>(latest & ((1u << kLatestSlotBits) - 1));
}

/// A lease word holds the sequence a reader holds; the writer sets this bit when it
/// had to take the slot back (never-block with every slot pinned).
inline constexpr std::uint64_t kLeaseRevoked = std::uint64_t{1} << 63;
/// What the writer leaves in every lease word of a reader it let go (dropped, or hung
/// up): a frame the reader still holds reads as revoked, and the word, never zero
/// again, takes no new lease (the reader copies until it learns it was let go).
inline constexpr std::uint64_t kLeaseClosed = kLeaseRevoked | (std::uint64_t{1} << 62);
/// `eos` holds the sequence of the last frame before end of stream, with this bit.
inline constexpr std::uint64_t kEosFlag = std::uint64_t{1} << 63;

enum PoolState : std::uint32_t {
    kPoolClosed = 1u << 0,   // the writer ended the feed (hang-up follows)
    kPoolRetired = 1u << 1,  // a newer generation replaced this pool (message on the socket)
};

struct PlaneLayout {
    std::uint64_t offset;
    std::uint64_t size;
    std::uint32_t stride;
    std::uint32_t reserved;
};

struct FormatLayout {
    std::uint32_t pixelFormat;
    std::uint32_t width;
    std::uint32_t height;
    std::uint32_t planeCount;
    std::int32_t frameRateNum;
    std::int32_t frameRateDen;
    std::uint64_t frameSize;
    PlaneLayout planes[Format::kMaxPlanes];
    std::uint32_t capsLength;
    std::uint32_t reserved;
    char caps[Format::kMaxCapsLength + 1];
    // Colorimetry, as shmframe's own enum values (colorimetry.h). A reader maps a
    // value it does not know to Unknown (= the default for the format and size).
    std::uint32_t colorMatrix;
    std::uint32_t colorRange;
    std::uint32_t colorTransfer;
    std::uint32_t colorPrimaries;
};

struct PoolHeader {
    // Static part.
    std::uint64_t magic;
    std::uint32_t layoutVersion;
    std::uint32_t headerSize;
    std::uint64_t poolSize;
    std::uint64_t writerSession;
    std::uint32_t writerPid;
    std::uint32_t generation;
    std::uint32_t slotCount;
    std::uint32_t leaseLimit;
    std::uint32_t policy;
    std::uint32_t userMetaSize;
    std::uint64_t slotTableOffset;
    std::uint64_t userMetaOffset;
    std::uint64_t userMetaStride;
    std::uint64_t slotDataOffset;
    std::uint64_t slotDataStride;
    FormatLayout format;

    // Live part, written by the writer only.
    alignas(64) std::atomic<std::uint64_t> latest;  // packLatest(); 0 = nothing published
    std::atomic<std::uint64_t> eos;                 // kEosFlag | last sequence; 0 = streaming
    std::atomic<std::uint32_t> state;               // PoolState bits
    std::atomic<std::uint32_t> readers;
    std::atomic<std::uint64_t> published;
    std::atomic<std::uint64_t> lastPublishNs;
    alignas(64) std::atomic<std::uint32_t> writerWaiting;  // lossless: wake me on progress
};

struct alignas(64) SlotHeader {
    std::atomic<std::uint64_t> sequence;  // 0 while empty or being written
    std::atomic<std::uint64_t> pts;
    std::atomic<std::uint64_t> dts;
    std::atomic<std::uint64_t> duration;
    std::atomic<std::uint64_t> publishTimeNs;
    std::atomic<std::uint32_t> flags;
    std::atomic<std::uint32_t> userMetaLength;
};

struct ControlBlock {
    std::uint32_t magic;
    std::uint32_t layoutVersion;
    std::uint32_t leaseCount;  // entries of `leases` the writer honours
    std::uint32_t readerId;
    alignas(64) std::atomic<std::uint32_t> wantWake;  // reader: "I am about to sleep"
    alignas(64) std::atomic<std::uint64_t> consumed;  // sequential progress, for lossless
    alignas(64) std::atomic<std::uint64_t> leases[kMaxLeases];
    // The reader's progress on this connection, written by a reader that says so in its
    // Hello (kHelloReportsProgress) and read by the writer only to answer a probe's
    // ReaderTable. Zero in a block whose reader predates them; the writer sets
    // `delivered` to where it admitted the reader.
    alignas(64) std::atomic<std::uint64_t> delivered;  // the last sequence it took
    std::atomic<std::uint64_t> received;               // frames it took
    std::atomic<std::uint64_t> missed;                 // skipped (latest) or gaps (sequential)
};

static_assert(std::is_standard_layout_v<PoolHeader>);
static_assert(std::is_standard_layout_v<SlotHeader>);
static_assert(std::is_standard_layout_v<ControlBlock>);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint64_t>) == 8);
static_assert(sizeof(SlotHeader) == 64);
static_assert(sizeof(ControlBlock) <= kControlBlockSize);
static_assert(kMaxSlots < (1u << kLatestSlotBits));

// The shared layout, pinned: the size and the offset of every field of everything
// that lives in shared memory. An edit that moves any of them must come with a new
// kLayoutVersion (and these numbers), never silently.
static_assert(kLayoutVersion == 2, "update the pinned layout below with the version");
static_assert(sizeof(PlaneLayout) == 24);
static_assert(offsetof(PlaneLayout, offset) == 0);
static_assert(offsetof(PlaneLayout, size) == 8);
static_assert(offsetof(PlaneLayout, stride) == 16);
static_assert(offsetof(PlaneLayout, reserved) == 20);
static_assert(sizeof(FormatLayout) == 1176);
static_assert(offsetof(FormatLayout, pixelFormat) == 0);
static_assert(offsetof(FormatLayout, width) == 4);
static_assert(offsetof(FormatLayout, height) == 8);
static_assert(offsetof(FormatLayout, planeCount) == 12);
static_assert(offsetof(FormatLayout, frameRateNum) == 16);
static_assert(offsetof(FormatLayout, frameRateDen) == 20);
static_assert(offsetof(FormatLayout, frameSize) == 24);
static_assert(offsetof(FormatLayout, planes) == 32);
static_assert(offsetof(FormatLayout, capsLength) == 128);
static_assert(offsetof(FormatLayout, reserved) == 132);
static_assert(offsetof(FormatLayout, caps) == 136);
static_assert(offsetof(FormatLayout, colorMatrix) == 136 + Format::kMaxCapsLength + 1);
static_assert(offsetof(FormatLayout, colorMatrix) == 1160);
static_assert(offsetof(FormatLayout, colorRange) == 1164);
static_assert(offsetof(FormatLayout, colorTransfer) == 1168);
static_assert(offsetof(FormatLayout, colorPrimaries) == 1172);
static_assert(sizeof(PoolHeader) == 1408);
static_assert(offsetof(PoolHeader, magic) == 0);
static_assert(offsetof(PoolHeader, layoutVersion) == 8);
static_assert(offsetof(PoolHeader, headerSize) == 12);
static_assert(offsetof(PoolHeader, poolSize) == 16);
static_assert(offsetof(PoolHeader, writerSession) == 24);
static_assert(offsetof(PoolHeader, writerPid) == 32);
static_assert(offsetof(PoolHeader, generation) == 36);
static_assert(offsetof(PoolHeader, slotCount) == 40);
static_assert(offsetof(PoolHeader, leaseLimit) == 44);
static_assert(offsetof(PoolHeader, policy) == 48);
static_assert(offsetof(PoolHeader, userMetaSize) == 52);
static_assert(offsetof(PoolHeader, slotTableOffset) == 56);
static_assert(offsetof(PoolHeader, userMetaOffset) == 64);
static_assert(offsetof(PoolHeader, userMetaStride) == 72);
static_assert(offsetof(PoolHeader, slotDataOffset) == 80);
static_assert(offsetof(PoolHeader, slotDataStride) == 88);
static_assert(offsetof(PoolHeader, format) == 96);
static_assert(offsetof(PoolHeader, latest) == 1280);
static_assert(offsetof(PoolHeader, eos) == 1288);
static_assert(offsetof(PoolHeader, state) == 1296);
static_assert(offsetof(PoolHeader, readers) == 1300);
static_assert(offsetof(PoolHeader, published) == 1304);
static_assert(offsetof(PoolHeader, lastPublishNs) == 1312);
static_assert(offsetof(PoolHeader, writerWaiting) == 1344);
static_assert(sizeof(SlotHeader) == 64);
static_assert(offsetof(SlotHeader, sequence) == 0);
static_assert(offsetof(SlotHeader, pts) == 8);
static_assert(offsetof(SlotHeader, dts) == 16);
static_assert(offsetof(SlotHeader, duration) == 24);
static_assert(offsetof(SlotHeader, publishTimeNs) == 32);
static_assert(offsetof(SlotHeader, flags) == 40);
static_assert(offsetof(SlotHeader, userMetaLength) == 44);
// The progress words lie past what layout version 2 had first (320 bytes) in the
// block's zeroed tail, announced by a Hello flag: a peer that predates them never
// reads or writes them, so they need no new version.
static_assert(sizeof(ControlBlock) == 384);
static_assert(offsetof(ControlBlock, magic) == 0);
static_assert(offsetof(ControlBlock, layoutVersion) == 4);
static_assert(offsetof(ControlBlock, leaseCount) == 8);
static_assert(offsetof(ControlBlock, readerId) == 12);
static_assert(offsetof(ControlBlock, wantWake) == 64);
static_assert(offsetof(ControlBlock, consumed) == 128);
static_assert(offsetof(ControlBlock, leases) == 192);
static_assert(offsetof(ControlBlock, delivered) == 320);
static_assert(offsetof(ControlBlock, received) == 328);
static_assert(offsetof(ControlBlock, missed) == 336);

/// Where everything of a pool lies: computed by the writer, re-checked by readers.
struct PoolGeometry {
    std::uint32_t slotCount = 0;
    std::uint32_t userMetaSize = 0;
    std::uint64_t slotTableOffset = 0;
    std::uint64_t userMetaOffset = 0;
    std::uint64_t userMetaStride = 0;
    std::uint64_t slotDataOffset = 0;
    std::uint64_t slotDataStride = 0;
    std::uint64_t poolSize = 0;
};

/// The static part of a header, copied out of shared memory and validated, so that
/// nothing a writer changes afterwards can move an offset under a reader.
struct PoolDescription {
    PoolGeometry geometry;
    Format format;
    std::uint64_t writerSession = 0;
    std::uint32_t writerPid = 0;
    std::uint32_t generation = 0;
    std::uint32_t leaseLimit = 0;
    std::uint32_t policy = 0;
};

/// Lays out a pool for \a format (writer side).
Result<PoolGeometry> computeGeometry(const Format& format, std::uint32_t slots,
                                     std::uint32_t userMetaSize);

/// Writes the static part of a header into a fresh (zeroed) pool.
void writeHeader(PoolHeader& header, const PoolDescription& description);

/**
 * Copies the header out of \a pool (\a poolSize bytes) and checks every field against
 * the mapping: magic, version, sizes, offsets, alignment, counts and the format. The
 * error is BadPool and names the field.
 */
Result<PoolDescription> readHeader(const std::byte* pool, std::size_t poolSize);

/// Checks the writer-owned fields of a control block (reader side).
Result<std::uint32_t> readControlBlock(const std::byte* block, std::size_t size);

inline PoolHeader& header(std::byte* pool) {
    return *reinterpret_cast<PoolHeader*>(pool);
}
inline const PoolHeader& header(const std::byte* pool) {
    return *reinterpret_cast<const PoolHeader*>(pool);
}
inline SlotHeader& slotHeader(std::byte* pool, const PoolGeometry& g, std::uint32_t slot) {
    return reinterpret_cast<SlotHeader*>(pool + g.slotTableOffset)[slot];
}
inline const SlotHeader& slotHeader(const std::byte* pool, const PoolGeometry& g,
                                    std::uint32_t slot) {
    return reinterpret_cast<const SlotHeader*>(pool + g.slotTableOffset)[slot];
}

}  // namespace shmframe::layout
