// SPDX-License-Identifier: LGPL-2.1-or-later
// The C ABI (shmframe/shmframe_c.h): handles own the C++ objects, every call catches
// what it could throw (allocation) and turns Errors into a status plus a
// thread-local message.
#include "shmframe/shmframe_c.h"

#include <chrono>
#include <new>
#include <string>
#include <utility>

#include "shmframe/error.h"
#include "shmframe/format.h"
#include "shmframe/reader.h"
#include "shmframe/version.h"
#include "shmframe/writer.h"

struct shmframe_writer {
    shmframe::Writer writer;
};

struct shmframe_loan {
    shmframe::LoanedFrame frame;
};

struct shmframe_reader {
    shmframe::Reader reader;
};

struct shmframe_frame {
    shmframe::Frame frame;
    shmframe_format format;
    shmframe_frame_meta meta;
};

namespace {

thread_local std::string lastError;

int fail(const shmframe::Error& error) {
    lastError = error.message;
    return int(error.code) + 1;
}

int invalid(const char* message) {
    return fail(shmframe::Error::make(shmframe::Errc::InvalidArgument, message));
}

int outOfMemory() {
    lastError = "out of memory";
    return SHMFRAME_ERR_SYSTEM;
}

shmframe_format toC(const shmframe::Format& format) {
    shmframe_format out{};
    out.pixel_format = std::uint32_t(format.pixelFormat);
    out.width = format.width;
    out.height = format.height;
    out.fps_num = format.frameRate.num;
    out.fps_den = format.frameRate.den;
    out.plane_count = format.planeCount;
    for (std::uint32_t i = 0; i < format.planeCount && i < SHMFRAME_MAX_PLANES; ++i) {
        out.planes[i].offset = format.planes[i].offset;
        out.planes[i].size = format.planes[i].size;
        out.planes[i].stride = format.planes[i].stride;
    }
    out.frame_size = format.frameSize;
    return out;
}

shmframe::Result<shmframe::Format> fromC(const shmframe_format& format) {
    if (format.plane_count > SHMFRAME_MAX_PLANES) {
        return shmframe::Error::make(shmframe::Errc::InvalidArgument,
                                     "plane_count is over SHMFRAME_MAX_PLANES");
    }
    std::vector<shmframe::Plane> planes;
    for (std::uint32_t i = 0; i < format.plane_count; ++i) {
        planes.push_back({format.planes[i].offset, format.planes[i].stride, format.planes[i].size});
    }
    return shmframe::Format::withLayout(shmframe::PixelFormat(format.pixel_format), format.width,
                                        format.height, {format.fps_num, format.fps_den}, planes,
                                        format.frame_size);
}

shmframe_frame_meta toC(const shmframe::FrameMeta& meta) {
    shmframe_frame_meta out{};
    out.pts = meta.pts;
    out.dts = meta.dts;
    out.duration = meta.duration;
    out.sequence = meta.sequence;
    out.publish_time_ns = meta.publishTimeNs;
    out.flags = meta.flags;
    return out;
}

// Runs \a body, turning an allocation failure into a status.
template <typename Body>
int guarded(Body&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return outOfMemory();
    } catch (...) {
        lastError = "unexpected failure inside libshmframe";
        return SHMFRAME_ERR_SYSTEM;
    }
}

}  // namespace

extern "C" {

const char* shmframe_last_error(void) {
    return lastError.c_str();
}

const char* shmframe_status_name(int status) {
    if (status == SHMFRAME_OK) {
        return "ok";
    }
    if (status < SHMFRAME_ERR_INVALID_ARGUMENT || status > SHMFRAME_ERR_INTERRUPTED) {
        return "unknown";
    }
    // toString() returns views of string literals: NUL-terminated.
    return shmframe::toString(shmframe::Errc(status - 1)).data();
}

const char* shmframe_version(void) {
    return SHMFRAME_VERSION_STRING;
}

const char* shmframe_pixel_format_name(uint32_t pixel_format) {
    return shmframe::toString(shmframe::PixelFormat(pixel_format)).data();
}

uint32_t shmframe_pixel_format_from_name(const char* name) {
    if (!name) {
        return SHMFRAME_FORMAT_UNKNOWN;
    }
    const auto format = shmframe::pixelFormatFromString(name);
    return format ? std::uint32_t(*format) : std::uint32_t{SHMFRAME_FORMAT_UNKNOWN};
}

int shmframe_format_make(uint32_t pixel_format, uint32_t width, uint32_t height, int32_t fps_num,
                         int32_t fps_den, uint32_t stride_align, shmframe_format* out) {
    if (!out) {
        return invalid("shmframe_format_make: out is NULL");
    }
    return guarded([&] {
        auto format = shmframe::Format::make(shmframe::PixelFormat(pixel_format), width, height,
                                             {fps_num, fps_den}, stride_align ? stride_align : 64);
        if (!format) {
            return fail(format.error());
        }
        *out = toC(*format);
        return int(SHMFRAME_OK);
    });
}

void shmframe_frame_meta_init(shmframe_frame_meta* meta) {
    if (meta) {
        *meta = toC(shmframe::FrameMeta{});
    }
}

// --- writer -----------------------------------------------------------------------

void shmframe_writer_options_init(shmframe_writer_options* options) {
    if (!options) {
        return;
    }
    const shmframe::WriterOptions defaults;
    *options = {};
    options->slot_count = defaults.slotCount;
    options->policy = std::uint32_t(defaults.policy);
    options->lease_limit = defaults.leaseLimit;
    options->user_meta_size = defaults.userMetaSize;
    options->lossless_timeout_ms = std::uint32_t(defaults.losslessTimeout.count());
}

int shmframe_writer_create(const char* feed, const shmframe_format* format,
                           const shmframe_writer_options* options, shmframe_writer** out) {
    if (!feed || !format || !out) {
        return invalid("shmframe_writer_create: feed, format and out must not be NULL");
    }
    *out = nullptr;
    return guarded([&] {
        auto layout = fromC(*format);
        if (!layout) {
            return fail(layout.error());
        }
        shmframe::WriterOptions writerOptions;
        if (options) {
            if (options->policy > SHMFRAME_POLICY_LOSSLESS) {
                return invalid("shmframe_writer_create: unknown policy");
            }
            writerOptions.slotCount = options->slot_count;
            writerOptions.policy = shmframe::WriterPolicy(options->policy);
            writerOptions.leaseLimit = options->lease_limit;
            writerOptions.userMetaSize = options->user_meta_size;
            writerOptions.losslessTimeout = std::chrono::milliseconds(options->lossless_timeout_ms);
        }
        auto writer = shmframe::Writer::create(feed, *layout, std::move(writerOptions));
        if (!writer) {
            return fail(writer.error());
        }
        *out = new shmframe_writer{std::move(*writer)};
        return int(SHMFRAME_OK);
    });
}

int shmframe_writer_loan(shmframe_writer* writer, shmframe_loan** out) {
    if (!writer || !out) {
        return invalid("shmframe_writer_loan: writer and out must not be NULL");
    }
    *out = nullptr;
    return guarded([&] {
        auto frame = writer->writer.loan();
        if (!frame) {
            return fail(frame.error());
        }
        *out = new shmframe_loan{std::move(*frame)};
        return int(SHMFRAME_OK);
    });
}

uint8_t* shmframe_loan_plane(shmframe_loan* loan, uint32_t index, size_t* size) {
    const auto plane = loan ? loan->frame.plane(index) : std::span<std::byte>();
    if (size) {
        *size = plane.size();
    }
    return plane.empty() ? nullptr : reinterpret_cast<uint8_t*>(plane.data());
}

uint8_t* shmframe_loan_user_meta(shmframe_loan* loan, size_t* capacity) {
    const auto area = loan ? loan->frame.userMeta() : std::span<std::byte>();
    if (capacity) {
        *capacity = area.size();
    }
    return area.empty() ? nullptr : reinterpret_cast<uint8_t*>(area.data());
}

void shmframe_loan_drop(shmframe_loan* loan) {
    delete loan;
}

int shmframe_writer_publish(shmframe_writer* writer, shmframe_loan* loan,
                            const shmframe_frame_meta* meta, uint32_t user_meta_length) {
    if (!writer || !loan) {
        delete loan;
        return invalid("shmframe_writer_publish: writer and loan must not be NULL");
    }
    return guarded([&] {
        std::unique_ptr<shmframe_loan> owned(loan);
        if (user_meta_length > owned->frame.userMeta().size()) {
            return invalid("shmframe_writer_publish: user_meta_length is over the capacity");
        }
        owned->frame.setUserMetaLength(user_meta_length);
        shmframe::FrameMeta frameMeta;
        if (meta) {
            frameMeta.pts = meta->pts;
            frameMeta.dts = meta->dts;
            frameMeta.duration = meta->duration;
            frameMeta.flags = meta->flags;
        }
        auto published = writer->writer.publish(std::move(owned->frame), frameMeta);
        return published ? int(SHMFRAME_OK) : fail(published.error());
    });
}

int shmframe_writer_end_of_stream(shmframe_writer* writer) {
    if (!writer) {
        return invalid("shmframe_writer_end_of_stream: writer is NULL");
    }
    return guarded([&] {
        auto ended = writer->writer.endOfStream();
        return ended ? int(SHMFRAME_OK) : fail(ended.error());
    });
}

uint64_t shmframe_writer_published(const shmframe_writer* writer) {
    return writer ? writer->writer.stats().published : 0;
}

uint32_t shmframe_writer_readers(const shmframe_writer* writer) {
    return writer ? writer->writer.stats().readers : 0;
}

void shmframe_writer_close(shmframe_writer* writer) {
    if (writer) {
        writer->writer.close();
        delete writer;
    }
}

// --- reader -----------------------------------------------------------------------

static_assert(SHMFRAME_WAIT_BLOCK == int(shmframe::WaitMode::Block));
static_assert(SHMFRAME_WAIT_SPIN == int(shmframe::WaitMode::Spin));
static_assert(SHMFRAME_WAIT_PACED == int(shmframe::WaitMode::Paced));

void shmframe_reader_options_init(shmframe_reader_options* options) {
    if (!options) {
        return;
    }
    const shmframe::ReaderOptions defaults;
    *options = {};
    options->mode = std::uint32_t(defaults.mode);
    options->wait_for_writer = defaults.waitForWriter;
    options->reconnect = defaults.reconnect;
    options->wait = std::uint32_t(defaults.wait);
}

int shmframe_reader_open(const char* feed, const shmframe_reader_options* options,
                         shmframe_reader** out) {
    if (!feed || !out) {
        return invalid("shmframe_reader_open: feed and out must not be NULL");
    }
    *out = nullptr;
    return guarded([&] {
        shmframe::ReaderOptions readerOptions;
        readerOptions.clientName = "c-api";
        if (options) {
            if (options->mode > SHMFRAME_MODE_SEQUENTIAL) {
                return invalid("shmframe_reader_open: unknown mode");
            }
            readerOptions.mode = shmframe::ReadMode(options->mode);
            readerOptions.waitForWriter = options->wait_for_writer != 0;
            readerOptions.reconnect = options->reconnect != 0;
            if (options->wait > SHMFRAME_WAIT_PACED) {
                return invalid("shmframe_reader_open: unknown wait mode");
            }
            readerOptions.wait = shmframe::WaitMode(options->wait);
        }
        auto reader = shmframe::Reader::open(feed, std::move(readerOptions));
        if (!reader) {
            return fail(reader.error());
        }
        *out = new shmframe_reader{std::move(*reader)};
        return int(SHMFRAME_OK);
    });
}

int shmframe_reader_next(shmframe_reader* reader, int64_t timeout_ns, shmframe_frame** out) {
    if (!reader || !out) {
        return invalid("shmframe_reader_next: reader and out must not be NULL");
    }
    *out = nullptr;
    return guarded([&] {
        // "Forever" as a year: far enough, and no overflow in deadline arithmetic.
        const auto timeout = timeout_ns < 0 ? std::chrono::nanoseconds(std::chrono::hours(24 * 365))
                                            : std::chrono::nanoseconds(timeout_ns);
        auto frame = reader->reader.next(timeout);
        if (!frame) {
            return fail(frame.error());
        }
        auto* handle = new shmframe_frame{std::move(*frame), {}, {}};
        handle->format = toC(handle->frame.format());
        handle->meta = toC(handle->frame.meta());
        *out = handle;
        return int(SHMFRAME_OK);
    });
}

int shmframe_reader_fd(const shmframe_reader* reader) {
    return reader ? reader->reader.fd() : -1;
}

void shmframe_reader_interrupt(shmframe_reader* reader) {
    if (reader) {
        reader->reader.interrupt();
    }
}

int shmframe_reader_stats_get(const shmframe_reader* reader, shmframe_reader_stats* out) {
    if (!reader || !out) {
        return invalid("shmframe_reader_stats_get: reader and out must not be NULL");
    }
    const shmframe::ReaderStats stats = reader->reader.stats();
    *out = {stats.received,   stats.skipped,       stats.gaps,
            stats.copies,     stats.revoked,       stats.reconnects,
            stats.writerGone, stats.formatChanges, stats.endOfStreams};
    return SHMFRAME_OK;
}

void shmframe_reader_close(shmframe_reader* reader) {
    delete reader;
}

const uint8_t* shmframe_frame_plane(const shmframe_frame* frame, uint32_t index, size_t* size) {
    const auto plane = frame ? frame->frame.plane(index) : std::span<const std::byte>();
    if (size) {
        *size = plane.size();
    }
    return plane.empty() ? nullptr : reinterpret_cast<const uint8_t*>(plane.data());
}

const shmframe_format* shmframe_frame_format(const shmframe_frame* frame) {
    return frame ? &frame->format : nullptr;
}

const shmframe_frame_meta* shmframe_frame_meta_get(const shmframe_frame* frame) {
    return frame ? &frame->meta : nullptr;
}

const uint8_t* shmframe_frame_user_meta(const shmframe_frame* frame, size_t* length) {
    const auto area = frame ? frame->frame.userMeta() : std::span<const std::byte>();
    if (length) {
        *length = area.size();
    }
    return area.empty() ? nullptr : reinterpret_cast<const uint8_t*>(area.data());
}

void shmframe_frame_release(shmframe_frame* frame) {
    delete frame;
}

}  // extern "C"
