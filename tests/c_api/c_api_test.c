/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The C ABI from a C11 program: a writer and a reader in one process, exact pixels,
 * metadata both ways, the fd, stats, and errors as status codes with messages. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shmframe/shmframe_c.h"

static int failures = 0;

#define CHECK(condition)                                                                      \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (last error: %s)\n", __FILE__, __LINE__, \
                    #condition, shmframe_last_error());                                       \
            ++failures;                                                                       \
        }                                                                                     \
    } while (0)

static uint8_t pattern(uint32_t plane, uint32_t row, uint32_t column, uint64_t frame) {
    return (uint8_t)(plane * 61u + row * 7u + column * 3u + (uint32_t)frame * 11u);
}

static void errors_are_status_codes_with_messages(void) {
    shmframe_reader* reader = NULL;
    CHECK(shmframe_reader_open("nobody-writes-this", NULL, &reader) == SHMFRAME_ERR_NO_WRITER);
    CHECK(reader == NULL);
    CHECK(strstr(shmframe_last_error(), "nobody-writes-this") != NULL);
    CHECK(strcmp(shmframe_status_name(SHMFRAME_ERR_NO_WRITER), "no-writer") == 0);
    CHECK(shmframe_reader_open("bad/name", NULL, &reader) == SHMFRAME_ERR_INVALID_FEED_NAME);
    CHECK(shmframe_reader_open(NULL, NULL, &reader) == SHMFRAME_ERR_INVALID_ARGUMENT);

    shmframe_format format;
    CHECK(shmframe_format_make(SHMFRAME_FORMAT_NV12, 0, 20, 30, 1, 0, &format) ==
          SHMFRAME_ERR_INVALID_ARGUMENT);
    CHECK(shmframe_pixel_format_from_name("no-such-format") == SHMFRAME_FORMAT_UNKNOWN);
}

static void frames_travel_with_pixels_and_metadata(void) {
    shmframe_format format;
    CHECK(shmframe_format_make(shmframe_pixel_format_from_name("nv12"), 64, 48, 30, 1, 0,
                               &format) == SHMFRAME_OK);
    CHECK(format.plane_count == 2);
    CHECK(strcmp(shmframe_pixel_format_name(format.pixel_format), "NV12") == 0);

    shmframe_writer_options options;
    shmframe_writer_options_init(&options);
    options.user_meta_size = 64;
    shmframe_writer* writer = NULL;
    CHECK(shmframe_writer_create("c-api", &format, &options, &writer) == SHMFRAME_OK);
    if (!writer) {
        return;
    }
    shmframe_writer* second = NULL;
    CHECK(shmframe_writer_create("c-api", &format, NULL, &second) == SHMFRAME_ERR_WRITER_EXISTS);

    shmframe_reader_options reader_options;
    shmframe_reader_options_init(&reader_options);
    reader_options.mode = SHMFRAME_MODE_SEQUENTIAL;
    shmframe_reader* reader = NULL;
    CHECK(shmframe_reader_open("c-api", &reader_options, &reader) == SHMFRAME_OK);
    if (!reader) {
        shmframe_writer_close(writer);
        return;
    }
    shmframe_frame* frame = NULL;
    CHECK(shmframe_reader_next(reader, 0, &frame) == SHMFRAME_ERR_WOULD_BLOCK);
    CHECK(shmframe_reader_next(reader, 20 * 1000 * 1000, &frame) == SHMFRAME_ERR_TIMEOUT);

    for (uint64_t n = 0; n < 3; ++n) {
        shmframe_loan* loan = NULL;
        CHECK(shmframe_writer_loan(writer, &loan) == SHMFRAME_OK);
        for (uint32_t p = 0; p < format.plane_count; ++p) {
            size_t size = 0;
            uint8_t* bytes = shmframe_loan_plane(loan, p, &size);
            CHECK(bytes != NULL && size == format.planes[p].size);
            for (uint32_t row = 0; bytes && row < size / format.planes[p].stride; ++row) {
                for (uint32_t column = 0; column < 64; ++column) {
                    bytes[row * format.planes[p].stride + column] = pattern(p, row, column, n);
                }
            }
        }
        size_t capacity = 0;
        uint8_t* user = shmframe_loan_user_meta(loan, &capacity);
        CHECK(user != NULL && capacity == 64);
        const int length = snprintf((char*)user, capacity, "frame %u", (unsigned)n);
        shmframe_frame_meta meta;
        shmframe_frame_meta_init(&meta);
        meta.pts = 1000 + n;
        meta.flags = 2;
        CHECK(shmframe_writer_publish(writer, loan, &meta, (uint32_t)length) == SHMFRAME_OK);
    }
    CHECK(shmframe_writer_published(writer) == 3);

    struct pollfd ready = {shmframe_reader_fd(reader), POLLIN, 0};
    CHECK(ready.fd >= 0 && poll(&ready, 1, 5000) == 1);
    for (uint64_t n = 0; n < 3; ++n) {
        CHECK(shmframe_reader_next(reader, 5000000000LL, &frame) == SHMFRAME_OK);
        if (!frame) {
            continue;
        }
        const shmframe_frame_meta* meta = shmframe_frame_meta_get(frame);
        CHECK(meta->sequence == n + 1);
        CHECK(meta->pts == 1000 + n);
        CHECK(meta->dts == SHMFRAME_NO_TIMESTAMP);
        CHECK(meta->flags == 2);
        CHECK(meta->publish_time_ns > 0);
        const shmframe_format* seen = shmframe_frame_format(frame);
        CHECK(seen->width == 64 && seen->height == 48 &&
              seen->pixel_format == SHMFRAME_FORMAT_NV12);
        for (uint32_t p = 0; p < seen->plane_count; ++p) {
            size_t size = 0;
            const uint8_t* bytes = shmframe_frame_plane(frame, p, &size);
            CHECK(bytes != NULL && size == seen->planes[p].size);
            int wrong = 0;
            for (uint32_t row = 0; bytes && row < size / seen->planes[p].stride; ++row) {
                for (uint32_t column = 0; column < 64; ++column) {
                    wrong +=
                        bytes[row * seen->planes[p].stride + column] != pattern(p, row, column, n);
                }
            }
            CHECK(wrong == 0);
        }
        CHECK(shmframe_frame_plane(frame, 2, NULL) == NULL);
        size_t length = 0;
        const uint8_t* user = shmframe_frame_user_meta(frame, &length);
        char expected[16];
        snprintf(expected, sizeof expected, "frame %u", (unsigned)n);
        CHECK(length == strlen(expected) && memcmp(user, expected, length) == 0);
        shmframe_frame_release(frame);
    }
    shmframe_reader_stats stats;
    CHECK(shmframe_reader_stats_get(reader, &stats) == SHMFRAME_OK);
    CHECK(stats.received == 3 && stats.gaps == 0);

    shmframe_writer_close(writer);
    CHECK(shmframe_reader_next(reader, 5000000000LL, &frame) == SHMFRAME_ERR_END_OF_STREAM);
    CHECK(shmframe_reader_next(reader, 5000000000LL, &frame) == SHMFRAME_ERR_WRITER_GONE);
    shmframe_reader_close(reader);
}

static void wait_modes_are_chosen_by_name_and_checked(void) {
    shmframe_format format;
    CHECK(shmframe_format_make(shmframe_pixel_format_from_name("GRAY8"), 16, 16, 100, 1, 0,
                               &format) == SHMFRAME_OK);
    shmframe_writer* writer = NULL;
    CHECK(shmframe_writer_create("c-api-paced", &format, NULL, &writer) == SHMFRAME_OK);
    if (!writer) {
        return;
    }
    shmframe_reader_options options;
    shmframe_reader_options_init(&options);
    CHECK(options.wait == SHMFRAME_WAIT_BLOCK && options.spin == 0);
    shmframe_reader* reader = NULL;
    options.wait = 3;
    CHECK(shmframe_reader_open("c-api-paced", &options, &reader) == SHMFRAME_ERR_INVALID_ARGUMENT);
    options.spin = 1; /* the older name still busy-polls */
    CHECK(options.wait == SHMFRAME_WAIT_SPIN);
    options.wait = SHMFRAME_WAIT_PACED;
    CHECK(shmframe_reader_open("c-api-paced", &options, &reader) == SHMFRAME_OK);
    for (int n = 0; reader && n < 10; ++n) {
        shmframe_loan* loan = NULL;
        CHECK(shmframe_writer_loan(writer, &loan) == SHMFRAME_OK);
        CHECK(shmframe_writer_publish(writer, loan, NULL, 0) == SHMFRAME_OK);
        shmframe_frame* frame = NULL;
        CHECK(shmframe_reader_next(reader, 5000000000LL, &frame) == SHMFRAME_OK);
        CHECK(frame && shmframe_frame_meta_get(frame)->sequence == (uint64_t)n + 1);
        shmframe_frame_release(frame);
    }
    shmframe_reader_close(reader);
    shmframe_writer_close(writer);
}

int main(void) {
    char dir[] = "/tmp/shmframe-c-api-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("SHMFRAME_DIR", dir, 1);
    errors_are_status_codes_with_messages();
    frames_travel_with_pixels_and_metadata();
    wait_modes_are_chosen_by_name_and_checked();
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    if (system(command) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%s\n", failures ? "FAILED" : "passed");
    return failures ? 1 : 0;
}
