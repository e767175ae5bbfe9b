/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * \file shmframe_c.h
 * \brief The C ABI of libshmframe, for C and for every language with a C FFI
 * (Python ctypes/cffi, Rust, Go, C#).
 *
 * Opaque handles, plain structs of fixed-width fields, no C++ type crosses it.
 * Every fallible call returns a shmframe_status: SHMFRAME_OK (0) or an error code;
 * shmframe_last_error() then tells what failed and why, in a sentence, for the
 * calling thread.
 *
 * \code
 * shmframe_reader* reader;
 * if (shmframe_reader_open("cam0", NULL, &reader) != SHMFRAME_OK) {
 *     fprintf(stderr, "%s\n", shmframe_last_error());
 * }
 * shmframe_frame* frame;
 * while (shmframe_reader_next(reader, 1000000000, &frame) == SHMFRAME_OK) {
 *     size_t size;
 *     const uint8_t* pixels = shmframe_frame_plane(frame, 0, &size);
 *     ...
 *     shmframe_frame_release(frame);
 * }
 * shmframe_reader_close(reader);
 * \endcode
 *
 * Handles are used from one thread at a time, except that frames and loans may be
 * released from any thread and shmframe_reader_interrupt() may be called from
 * another thread.
 */
#ifndef SHMFRAME_SHMFRAME_C_H
#define SHMFRAME_SHMFRAME_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** \brief Outcome of a call: SHMFRAME_OK or what kind of failure (shmframe::Errc + 1). */
typedef enum shmframe_status {
    SHMFRAME_OK = 0,
    SHMFRAME_ERR_INVALID_ARGUMENT = 1,
    SHMFRAME_ERR_INVALID_FEED_NAME = 2,
    SHMFRAME_ERR_NO_WRITER = 3,
    SHMFRAME_ERR_WRITER_EXISTS = 4,
    SHMFRAME_ERR_PERMISSION_DENIED = 5,
    SHMFRAME_ERR_PROTOCOL_MISMATCH = 6,
    SHMFRAME_ERR_BAD_MESSAGE = 7,
    SHMFRAME_ERR_BAD_POOL = 8,
    SHMFRAME_ERR_TIMEOUT = 9,
    SHMFRAME_ERR_WOULD_BLOCK = 10,
    SHMFRAME_ERR_WRITER_GONE = 11,
    SHMFRAME_ERR_END_OF_STREAM = 12,
    SHMFRAME_ERR_DROPPED = 13,
    SHMFRAME_ERR_SYSTEM = 14,
    SHMFRAME_ERR_UNSUPPORTED = 15,
    SHMFRAME_ERR_INTERRUPTED = 16
} shmframe_status;

/** \brief The message of the last failed call in this thread ("" if none). */
const char* shmframe_last_error(void);
/** \brief A stable short name of a status ("ok", "no-writer", "timeout", ...). */
const char* shmframe_status_name(int status);
/** \brief The library version, "MAJOR.MINOR.PATCH". */
const char* shmframe_version(void);

/* --- formats ------------------------------------------------------------------ */

/** \brief Pixel formats (values of shmframe::PixelFormat; GStreamer names). */
enum {
    SHMFRAME_FORMAT_UNKNOWN = 0,
    SHMFRAME_FORMAT_RGBA = 1,
    SHMFRAME_FORMAT_BGRA = 2,
    SHMFRAME_FORMAT_RGBX = 3,
    SHMFRAME_FORMAT_BGRX = 4,
    SHMFRAME_FORMAT_RGB = 5,
    SHMFRAME_FORMAT_BGR = 6,
    SHMFRAME_FORMAT_GRAY8 = 7,
    SHMFRAME_FORMAT_GRAY16_LE = 8,
    SHMFRAME_FORMAT_NV12 = 9,
    SHMFRAME_FORMAT_I420 = 10,
    SHMFRAME_FORMAT_YUY2 = 11,
    SHMFRAME_FORMAT_UYVY = 12
};

#define SHMFRAME_MAX_PLANES 4

/** \brief One plane: bytes from the start of the frame, bytes per row, bytes in all. */
typedef struct shmframe_plane {
    uint64_t offset;
    uint64_t size;
    uint32_t stride;
    uint32_t reserved;
} shmframe_plane;

/** \brief The layout of every frame of a feed. */
typedef struct shmframe_format {
    uint32_t pixel_format; /**< SHMFRAME_FORMAT_* */
    uint32_t width;
    uint32_t height;
    int32_t fps_num; /**< 0/1: variable or unknown */
    int32_t fps_den;
    uint32_t plane_count;
    shmframe_plane planes[SHMFRAME_MAX_PLANES];
    uint64_t frame_size;
} shmframe_format;

/** \brief The GStreamer name of a pixel format ("NV12"); "UNKNOWN" if unknown. */
const char* shmframe_pixel_format_name(uint32_t pixel_format);
/** \brief A pixel format from its name, case-insensitive; SHMFRAME_FORMAT_UNKNOWN if unknown. */
uint32_t shmframe_pixel_format_from_name(const char* name);
/**
 * \brief The default layout of a format: rows padded to \a stride_align bytes (a power
 * of two from 1 to 4096; 0 means 64), planes one after the other.
 */
int shmframe_format_make(uint32_t pixel_format, uint32_t width, uint32_t height, int32_t fps_num,
                         int32_t fps_den, uint32_t stride_align, shmframe_format* out);

/* --- per-frame metadata ---------------------------------------------------------- */

/** \brief "No timestamp". */
#define SHMFRAME_NO_TIMESTAMP UINT64_MAX

/** \brief What travels with each frame. sequence and publish_time_ns are set by publish. */
typedef struct shmframe_frame_meta {
    uint64_t pts;      /**< ns, or SHMFRAME_NO_TIMESTAMP */
    uint64_t dts;      /**< ns, or SHMFRAME_NO_TIMESTAMP */
    uint64_t duration; /**< ns, or SHMFRAME_NO_TIMESTAMP */
    uint64_t sequence;
    uint64_t publish_time_ns; /**< CLOCK_MONOTONIC */
    uint32_t flags;
    uint32_t reserved;
} shmframe_frame_meta;

/** \brief Fills \a meta with "no timestamp" and zeros. */
void shmframe_frame_meta_init(shmframe_frame_meta* meta);

/* --- writer ---------------------------------------------------------------------- */

typedef struct shmframe_writer shmframe_writer;
typedef struct shmframe_loan shmframe_loan;

enum { SHMFRAME_POLICY_NEVER_BLOCK = 0, SHMFRAME_POLICY_LOSSLESS = 1 };

typedef struct shmframe_writer_options {
    uint32_t slot_count; /**< 3 to 64 */
    uint32_t policy;     /**< SHMFRAME_POLICY_* */
    uint32_t lease_limit;
    uint32_t user_meta_size;
    uint32_t lossless_timeout_ms;
    uint32_t reserved;
} shmframe_writer_options;

/** \brief The defaults: 4 slots, never-block, lease limit 2, 256 bytes of user meta. */
void shmframe_writer_options_init(shmframe_writer_options* options);

/**
 * \brief Creates a feed's pool and starts serving readers. \a options may be NULL.
 * Errors: INVALID_FEED_NAME, WRITER_EXISTS, INVALID_ARGUMENT, SYSTEM.
 */
int shmframe_writer_create(const char* feed, const shmframe_format* format,
                           const shmframe_writer_options* options, shmframe_writer** out);
/** \brief A free slot. WOULD_BLOCK when every slot is on loan already. */
int shmframe_writer_loan(shmframe_writer* writer, shmframe_loan** out);
/** \brief Writable bytes of plane \a index (NULL past the format's planes); size in \a size. */
uint8_t* shmframe_loan_plane(shmframe_loan* loan, uint32_t index, size_t* size);
/** \brief The slot's user metadata area; its capacity in \a capacity. */
uint8_t* shmframe_loan_user_meta(shmframe_loan* loan, size_t* capacity);
/** \brief Gives the slot back unpublished and frees the handle. NULL is allowed. */
void shmframe_loan_drop(shmframe_loan* loan);
/**
 * \brief Publishes a loan (the handle is consumed, also on failure). \a meta may be
 * NULL; \a user_meta_length bytes of the user metadata area are sent.
 */
int shmframe_writer_publish(shmframe_writer* writer, shmframe_loan* loan,
                            const shmframe_frame_meta* meta, uint32_t user_meta_length);
/** \brief Signals end of stream; publishing again starts a new stream. */
int shmframe_writer_end_of_stream(shmframe_writer* writer);
/** \brief Frames published so far in this session. */
uint64_t shmframe_writer_published(const shmframe_writer* writer);
/** \brief Readers connected now. */
uint32_t shmframe_writer_readers(const shmframe_writer* writer);
/** \brief Ends the feed (end of stream, hang-up, socket removed) and frees the handle. */
void shmframe_writer_close(shmframe_writer* writer);

/* --- reader ---------------------------------------------------------------------- */

typedef struct shmframe_reader shmframe_reader;
typedef struct shmframe_frame shmframe_frame;

enum { SHMFRAME_MODE_LATEST = 0, SHMFRAME_MODE_SEQUENTIAL = 1 };

/** \brief How shmframe_reader_next() waits (shmframe::WaitMode). */
enum {
    SHMFRAME_WAIT_BLOCK = 0, /**< sleep until woken (default) */
    SHMFRAME_WAIT_SPIN = 1,  /**< busy-poll: lowest latency, one core busy */
    /** sleep until the next frame is nearly due (by the feed's rate), spin briefly for
     * it, and sleep as BLOCK when it is late or the feed is irregular */
    SHMFRAME_WAIT_PACED = 2
};

typedef struct shmframe_reader_options {
    uint32_t mode;            /**< SHMFRAME_MODE_* */
    uint32_t wait_for_writer; /**< nonzero: open without a writer */
    uint32_t reconnect;       /**< nonzero: wait for the next writer after one goes */
    union {
        uint32_t wait; /**< SHMFRAME_WAIT_*; other values are INVALID_ARGUMENT */
        uint32_t spin; /**< the older name of `wait`: 1 busy-polls */
    };
} shmframe_reader_options;

/** \brief The defaults: latest mode, no waiting for a writer, reconnect on, block. */
void shmframe_reader_options_init(shmframe_reader_options* options);

/** \brief Connects to a feed. \a options may be NULL. Errors: NO_WRITER, INVALID_FEED_NAME, ... */
int shmframe_reader_open(const char* feed, const shmframe_reader_options* options,
                         shmframe_reader** out);
/**
 * \brief The next frame, waiting up to \a timeout_ns (negative: forever; 0: WOULD_BLOCK
 * unless one is ready). Errors report, once each: END_OF_STREAM, WRITER_GONE,
 * TIMEOUT, WOULD_BLOCK, NO_WRITER, DROPPED, INTERRUPTED.
 */
int shmframe_reader_next(shmframe_reader* reader, int64_t timeout_ns, shmframe_frame** out);
/** \brief A poll()-able fd, readable when shmframe_reader_next() has something to say. */
int shmframe_reader_fd(const shmframe_reader* reader);
/** \brief Makes a waiting next() return INTERRUPTED; safe from another thread. */
void shmframe_reader_interrupt(shmframe_reader* reader);

typedef struct shmframe_reader_stats {
    uint64_t received;
    uint64_t skipped;
    uint64_t gaps;
    uint64_t copies;
    uint64_t revoked;
    uint64_t reconnects;
    uint64_t writer_gone;
    uint64_t format_changes;
    uint64_t end_of_streams;
} shmframe_reader_stats;

/** \brief The reader's counters. */
int shmframe_reader_stats_get(const shmframe_reader* reader, shmframe_reader_stats* out);
/** \brief Disconnects and frees the handle; frames not yet released stay valid. */
void shmframe_reader_close(shmframe_reader* reader);

/** \brief Read-only bytes of plane \a index (NULL past the format's planes). */
const uint8_t* shmframe_frame_plane(const shmframe_frame* frame, uint32_t index, size_t* size);
/** \brief The frame's layout. */
const shmframe_format* shmframe_frame_format(const shmframe_frame* frame);
/** \brief The frame's metadata. */
const shmframe_frame_meta* shmframe_frame_meta_get(const shmframe_frame* frame);
/** \brief The writer's user metadata of this frame; its length in \a length. */
const uint8_t* shmframe_frame_user_meta(const shmframe_frame* frame, size_t* length);
/** \brief Ends the frame's lease and frees the handle. NULL is allowed. */
void shmframe_frame_release(shmframe_frame* frame);

#ifdef __cplusplus
}
#endif

#endif /* SHMFRAME_SHMFRAME_C_H */
