# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every pixel format, both ways between a C++ process and Python: plane shapes and
strides from the format (padded rows included), exact pixels, metadata and user
metadata, and arrays that lie in the read-only pool mapping (no copy)."""
import time

import numpy as np
import pytest

import shmframe
from pattern import as_rows, expected_rows, fill

WIDTH, HEIGHT = 40, 30  # rows padded: 64-byte stride alignment
H2, W2 = HEIGHT // 2, WIDTH // 2

SHAPES = {
    "RGBA": [((HEIGHT, WIDTH, 4), "u1")],
    "BGRA": [((HEIGHT, WIDTH, 4), "u1")],
    "RGBx": [((HEIGHT, WIDTH, 4), "u1")],
    "BGRx": [((HEIGHT, WIDTH, 4), "u1")],
    "RGB": [((HEIGHT, WIDTH, 3), "u1")],
    "BGR": [((HEIGHT, WIDTH, 3), "u1")],
    "GRAY8": [((HEIGHT, WIDTH), "u1")],
    "GRAY16_LE": [((HEIGHT, WIDTH), "<u2")],
    "NV12": [((HEIGHT, WIDTH), "u1"), ((H2, W2, 2), "u1")],
    "I420": [((HEIGHT, WIDTH), "u1"), ((H2, W2), "u1"), ((H2, W2), "u1")],
    "YUY2": [((HEIGHT, WIDTH, 2), "u1")],
    "UYVY": [((HEIGHT, WIDTH, 2), "u1")],
}


def test_every_pixel_format_has_an_array_layout():
    assert sorted(SHAPES) == sorted(shmframe.pixel_formats())


def mapping_of(address):
    """The /proc/self/maps line of the mapping that holds `address`."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms, *rest = line.split()
            start, end = (int(x, 16) for x in span.split("-"))
            if start <= address < end:
                return perms, " ".join(rest[3:])
    return None


def wait_for_line(process, text):
    line = process.stdout.readline()
    assert text in line, f"peer said {line!r}: {process.stderr.read() if process.poll() is not None else ''}"


def check_layout(frame, pixel_format):
    fmt = frame.format
    assert fmt.pixel_format == pixel_format
    assert len(frame.planes) == len(SHAPES[pixel_format]) == fmt.plane_count
    for index, (array, (shape, dtype)) in enumerate(zip(frame.planes, SHAPES[pixel_format])):
        assert array.shape == shape, f"plane {index}"
        assert array.dtype == np.dtype(dtype)
        stride = fmt.planes[index].stride
        assert stride % 64 == 0 and stride >= fmt.row_bytes(index)
        element = array.dtype.itemsize
        pixel = array.shape[2] * element if array.ndim == 3 else element
        assert array.strides[:2] == (stride, pixel)
        if array.ndim == 3:
            assert array.strides[2] == element


@pytest.mark.parametrize("pixel_format", sorted(SHAPES))
def test_python_reads_exact_pixels_and_metadata_a_cpp_writer_published(processes, pixel_format):
    feed = f"cpp-{pixel_format}"
    writer = processes.peer("write", feed, pixel_format, WIDTH, HEIGHT, 3, 64)
    wait_for_line(writer, "ready")
    with shmframe.Reader(feed, mode="sequential", reconnect=False) as reader:
        # The writer starts once we are accepted, which can be a frame or two before
        # our handshake ends: the pattern is checked against each frame's own sequence.
        seen = []
        while True:
            try:
                frame = reader.next(timeout=20)
            except (shmframe.EndOfStream, shmframe.WriterGone):
                break  # the writer closes as soon as its last frame is out
            with frame:
                n = frame.meta.sequence - 1
                seen.append(n)
                check_layout(frame, pixel_format)
                for index, array in enumerate(frame.planes):
                    rows = as_rows(array)
                    assert np.array_equal(rows, expected_rows(index, *rows.shape, n)), index
                    # Zero copy: the array lies in the pool, a read-only shared mapping.
                    perms, path = mapping_of(array.ctypes.data)
                    assert perms.startswith("r-") and perms.endswith("s"), perms
                    assert "memfd:" in path, path
                    assert not array.flags.writeable
                    with pytest.raises(ValueError):
                        array[0, 0] = 1
                meta = frame.meta
                assert (meta.pts, meta.dts, meta.duration) == (1000 + n, 500 + n, 33)
                assert meta.flags == shmframe.FLAG_KEYFRAME
                assert 0 < meta.publish_time_ns <= shmframe.monotonic_ns()
                assert frame.user_meta == f"cpp {n}".encode()
                assert not frame.is_copy
        assert seen and seen == list(range(seen[0], 3)), seen
    assert writer.wait(timeout=20) == 0


@pytest.mark.parametrize("pixel_format", sorted(SHAPES))
def test_a_cpp_reader_gets_exact_pixels_and_metadata_python_published(processes, pixel_format):
    feed = f"py-{pixel_format}"
    fmt = shmframe.Format(pixel_format, WIDTH, HEIGHT, fps=30, stride_align=64)
    # Never-block: 3 frames in a pool of 4 slots are never overwritten before they are read.
    with shmframe.Writer(feed, fmt, slots=4) as writer:
        checker = processes.peer("check", feed, 3)
        wait_for_line(checker, "ready")
        deadline = time.monotonic() + 20
        while writer.stats.readers == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        for n in range(3):
            frame = writer.loan()
            for index, array in enumerate(frame.planes):
                assert array.flags.writeable
                assert array.shape == SHAPES[pixel_format][index][0]
                fill(array, index, n)
            del array  # no array left: publish() hands the slot over (no retained loan)
            writer.publish(frame, pts=2000 + n, duration=40, flags=shmframe.FLAG_DISCONT,
                           user_meta=f"py {n}".encode())
            assert frame.done
        out, err = checker.communicate(timeout=30)
    assert checker.returncode == 0, err
    assert out.count("frame ") == 3


def test_an_array_of_a_loan_lies_in_the_writers_shared_mapping():
    with shmframe.Writer("loan-map", shmframe.Format("BGR", 64, 48)) as writer:
        frame = writer.loan()
        perms, path = mapping_of(frame.plane(0).ctypes.data)
        assert perms.startswith("rw") and "memfd:" in path
        frame.drop()


def test_the_colorimetry_a_writer_names_reaches_a_reader():
    hd = shmframe.Format("NV12", 1280, 720)
    assert hd.colorimetry["matrix"] == "bt709" and hd.colorimetry["range"] == "limited"
    sd = shmframe.Format("NV12", 640, 480)
    assert sd.colorimetry["matrix"] == "bt601"
    chosen = shmframe.Format("I420", 64, 48, colorimetry="bt709:full")
    with shmframe.Writer("colour", chosen) as writer:
        reader = shmframe.Reader("colour")
        frame = writer.loan()
        writer.publish(frame)
        with reader.next(timeout=10) as seen:
            assert seen.format.colorimetry["matrix"] == "bt709"
            assert seen.format.colorimetry["range"] == "full"
        reader.close()
    with pytest.raises(shmframe.InvalidArgument):
        shmframe.Format("NV12", 64, 48, colorimetry="no-such-matrix")
