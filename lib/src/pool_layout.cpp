// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pool_layout.h"

#include <cstring>
#include <string>
#include <vector>

namespace shmframe::layout {
namespace {

std::uint64_t roundUp(std::uint64_t value, std::uint64_t alignment) {
    return (value + alignment - 1) / alignment * alignment;
}

Error badField(const std::string& field, const std::string& what) {
    return Error::make(Errc::BadPool, "pool header field '" + field + "' " + what);
}

// a + b * c <= limit, without overflow.
bool fits(std::uint64_t start, std::uint64_t count, std::uint64_t each, std::uint64_t limit) {
    std::uint64_t span = 0;
    std::uint64_t end = 0;
    return !__builtin_mul_overflow(count, each, &span) &&
           !__builtin_add_overflow(start, span, &end) && end <= limit;
}

// A value this library does not know (a newer writer's, or garbage) reads as Unknown,
// which converters resolve to the default for the format and size.
template <typename Enum>
Enum knownOrUnknown(std::uint32_t value) {
    const auto converted = static_cast<Enum>(value);
    return isKnownValue(converted) ? converted : Enum::Unknown;
}

Colorimetry colorimetryOf(const FormatLayout& in) {
    return Colorimetry{knownOrUnknown<ColorMatrix>(in.colorMatrix),
                       knownOrUnknown<ColorRange>(in.colorRange),
                       knownOrUnknown<ColorTransfer>(in.colorTransfer),
                       knownOrUnknown<ColorPrimaries>(in.colorPrimaries)};
}

}  // namespace

Result<PoolGeometry> computeGeometry(const Format& format, std::uint32_t slots,
                                     std::uint32_t userMetaSize) {
    if (slots < kMinSlots || slots > kMaxSlots) {
        return Error::make(Errc::InvalidArgument, "slots must be " + std::to_string(kMinSlots) +
                                                      " to " + std::to_string(kMaxSlots) +
                                                      ", not " + std::to_string(slots));
    }
    if (userMetaSize > kMaxUserMeta) {
        return Error::make(Errc::InvalidArgument,
                           "user metadata size must be at most " + std::to_string(kMaxUserMeta) +
                               " bytes, not " + std::to_string(userMetaSize));
    }
    PoolGeometry g;
    g.slotCount = slots;
    g.userMetaSize = userMetaSize;
    g.slotTableOffset = roundUp(sizeof(PoolHeader), 64);
    g.userMetaOffset = g.slotTableOffset + std::uint64_t{slots} * sizeof(SlotHeader);
    g.userMetaStride = roundUp(userMetaSize, 64);
    g.slotDataOffset = roundUp(g.userMetaOffset + slots * g.userMetaStride, kPageSize);
    g.slotDataStride = roundUp(format.frameSize, kPageSize);
    g.poolSize = g.slotDataOffset + slots * g.slotDataStride;
    return g;
}

void writeHeader(PoolHeader& h, const PoolDescription& d) {
    const PoolGeometry& g = d.geometry;
    h.magic = kPoolMagic;
    h.layoutVersion = kLayoutVersion;
    h.headerSize = sizeof(PoolHeader);
    h.poolSize = g.poolSize;
    h.writerSession = d.writerSession;
    h.writerPid = d.writerPid;
    h.generation = d.generation;
    h.slotCount = g.slotCount;
    h.leaseLimit = d.leaseLimit;
    h.policy = d.policy;
    h.userMetaSize = g.userMetaSize;
    h.slotTableOffset = g.slotTableOffset;
    h.userMetaOffset = g.userMetaOffset;
    h.userMetaStride = g.userMetaStride;
    h.slotDataOffset = g.slotDataOffset;
    h.slotDataStride = g.slotDataStride;

    const Format& f = d.format;
    FormatLayout& out = h.format;
    out.pixelFormat = static_cast<std::uint32_t>(f.pixelFormat);
    out.width = f.width;
    out.height = f.height;
    out.planeCount = f.planeCount;
    out.frameRateNum = f.frameRate.num;
    out.frameRateDen = f.frameRate.den;
    out.frameSize = f.frameSize;
    for (std::uint32_t i = 0; i < Format::kMaxPlanes; ++i) {
        out.planes[i] = PlaneLayout{f.planes[i].offset, f.planes[i].size, f.planes[i].stride, 0};
    }
    out.capsLength = static_cast<std::uint32_t>(f.caps.size());
    std::memset(out.caps, 0, sizeof(out.caps));
    std::memcpy(out.caps, f.caps.data(), f.caps.size());
    out.colorMatrix = static_cast<std::uint32_t>(f.colorimetry.matrix);
    out.colorRange = static_cast<std::uint32_t>(f.colorimetry.range);
    out.colorTransfer = static_cast<std::uint32_t>(f.colorimetry.transfer);
    out.colorPrimaries = static_cast<std::uint32_t>(f.colorimetry.primaries);
}

Result<PoolDescription> readHeader(const std::byte* pool, std::size_t poolSize) {
    if (poolSize < sizeof(PoolHeader)) {
        return badField("poolSize", "(" + std::to_string(poolSize) +
                                        " bytes mapped) is smaller than the header");
    }
    // Copy the static part first: the writer could change shared bytes under us.
    PoolHeader copy;
    std::memcpy(static_cast<void*>(&copy), pool, offsetof(PoolHeader, latest));

    if (copy.magic != kPoolMagic) {
        return badField("magic", "is wrong: this is not a shmframe pool");
    }
    if (copy.layoutVersion != kLayoutVersion) {
        return Error::make(Errc::ProtocolMismatch, "pool header field 'layoutVersion' is " +
                                                       std::to_string(copy.layoutVersion) +
                                                       ", this library reads " +
                                                       std::to_string(kLayoutVersion));
    }
    if (copy.headerSize != sizeof(PoolHeader)) {
        return badField("headerSize", "is " + std::to_string(copy.headerSize) + ", expected " +
                                          std::to_string(sizeof(PoolHeader)));
    }
    if (copy.poolSize != poolSize) {
        return badField("poolSize", "is " + std::to_string(copy.poolSize) + " but " +
                                        std::to_string(poolSize) + " bytes are mapped");
    }
    if (copy.slotCount < kMinSlots || copy.slotCount > kMaxSlots) {
        return badField("slotCount", "is " + std::to_string(copy.slotCount) + ", must be " +
                                         std::to_string(kMinSlots) + " to " +
                                         std::to_string(kMaxSlots));
    }
    if (copy.leaseLimit < 1 || copy.leaseLimit > kMaxLeases) {
        return badField("leaseLimit", "is " + std::to_string(copy.leaseLimit) + ", must be 1 to " +
                                          std::to_string(kMaxLeases));
    }
    if (copy.policy > 1) {
        return badField("policy", "is " + std::to_string(copy.policy) + ", must be 0 or 1");
    }
    if (copy.userMetaSize > kMaxUserMeta) {
        return badField("userMetaSize", "is " + std::to_string(copy.userMetaSize) + ", at most " +
                                            std::to_string(kMaxUserMeta));
    }
    if (copy.slotTableOffset < sizeof(PoolHeader) || copy.slotTableOffset % 64 != 0 ||
        !fits(copy.slotTableOffset, copy.slotCount, sizeof(SlotHeader), poolSize)) {
        return badField("slotTableOffset", "(" + std::to_string(copy.slotTableOffset) +
                                               ") puts the slot table outside the pool or "
                                               "misaligned");
    }
    if (copy.userMetaStride < copy.userMetaSize ||
        !fits(copy.userMetaOffset, copy.slotCount, copy.userMetaStride, poolSize)) {
        return badField("userMetaOffset", "(" + std::to_string(copy.userMetaOffset) +
                                              ") puts user metadata outside the pool");
    }
    if (copy.slotDataOffset % 64 != 0 || copy.slotDataStride % 64 != 0 ||
        !fits(copy.slotDataOffset, copy.slotCount, copy.slotDataStride, poolSize)) {
        return badField("slotDataOffset", "(" + std::to_string(copy.slotDataOffset) +
                                              ") or slotDataStride puts frames outside the pool "
                                              "or misaligned");
    }
    // The slot table, user metadata and frames must not overlap the header or each other.
    const std::uint64_t tableEnd = copy.slotTableOffset + copy.slotCount * sizeof(SlotHeader);
    const std::uint64_t metaEnd = copy.userMetaOffset + copy.slotCount * copy.userMetaStride;
    if (copy.userMetaOffset < tableEnd || copy.slotDataOffset < metaEnd) {
        return badField("userMetaOffset", "makes pool regions overlap");
    }

    const FormatLayout& in = copy.format;
    if (in.capsLength > Format::kMaxCapsLength || in.caps[in.capsLength] != '\0') {
        return badField("format.capsLength", "is " + std::to_string(in.capsLength) +
                                                 " or the caps string is not terminated");
    }
    if (in.planeCount > Format::kMaxPlanes) {
        return badField("format.planeCount", "is " + std::to_string(in.planeCount));
    }
    std::vector<Plane> planes;
    for (std::uint32_t i = 0; i < in.planeCount; ++i) {
        planes.push_back(Plane{in.planes[i].offset, in.planes[i].stride, in.planes[i].size});
    }
    auto format =
        Format::withLayout(static_cast<PixelFormat>(in.pixelFormat), in.width, in.height,
                           Fraction{in.frameRateNum, in.frameRateDen}, planes, in.frameSize);
    if (!format) {
        return Error::make(Errc::BadPool, "pool header: " + format.error().message);
    }
    format->caps.assign(in.caps, in.capsLength);
    format->colorimetry = colorimetryOf(in);
    // The caps string was not part of the layout checked above (a NUL inside it would
    // make a Format that fails validate() and a caps string that C APIs cut short).
    if (auto valid = format->validate(); !valid) {
        return Error::make(Errc::BadPool, "pool header: " + valid.error().message);
    }
    if (copy.slotDataStride < format->frameSize) {
        return badField("slotDataStride", "is " + std::to_string(copy.slotDataStride) +
                                              ", smaller than a frame of " +
                                              std::to_string(format->frameSize) + " bytes");
    }

    PoolDescription d;
    d.geometry = PoolGeometry{copy.slotCount,      copy.userMetaSize,   copy.slotTableOffset,
                              copy.userMetaOffset, copy.userMetaStride, copy.slotDataOffset,
                              copy.slotDataStride, copy.poolSize};
    d.format = std::move(*format);
    d.writerSession = copy.writerSession;
    d.writerPid = copy.writerPid;
    d.generation = copy.generation;
    d.leaseLimit = copy.leaseLimit;
    d.policy = copy.policy;
    return d;
}

Result<std::uint32_t> readControlBlock(const std::byte* block, std::size_t size) {
    if (size < sizeof(ControlBlock)) {
        return Error::make(Errc::BadPool, "control block is " + std::to_string(size) +
                                              " bytes, smaller than its layout");
    }
    ControlBlock copy;
    std::memcpy(static_cast<void*>(&copy), block, offsetof(ControlBlock, wantWake));
    if (copy.magic != kControlMagic || copy.layoutVersion != kLayoutVersion) {
        return Error::make(Errc::BadPool,
                           "control block field 'magic' or 'layoutVersion' is wrong");
    }
    if (copy.leaseCount < 1 || copy.leaseCount > kMaxLeases) {
        return Error::make(Errc::BadPool, "control block field 'leaseCount' is " +
                                              std::to_string(copy.leaseCount) + ", must be 1 to " +
                                              std::to_string(kMaxLeases));
    }
    return copy.leaseCount;
}

}  // namespace shmframe::layout
