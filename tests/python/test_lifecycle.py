# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a Python user of a feed lives through: errors as exceptions, end of stream,
a writer that goes and comes back, a process killed mid-frame, frames held past
their lease, read-only mappings, fileno/selectors, asyncio, threads."""
import asyncio
import gc
import selectors
import signal
import threading
import time

import numpy as np
import pytest

import shmframe

FMT = shmframe.Format("GRAY8", 64, 32, fps=30)


def publish(writer, value, **meta):
    frame = writer.loan()
    frame.plane(0)[:] = value
    writer.publish(frame, **meta)


def test_a_feed_nobody_writes_raises_no_writer_with_the_librarys_code_and_message():
    with pytest.raises(shmframe.NoWriter) as error:
        shmframe.Reader("nobody-here")
    assert error.value.code == "no-writer"
    assert "nobody-here" in error.value.message
    assert isinstance(error.value, shmframe.Error)


@pytest.mark.parametrize("name", ["bad/name", "", "x" * 65, "sp ace"])
def test_a_bad_feed_name_raises_invalid_feed_name(name):
    with pytest.raises(shmframe.InvalidFeedName):
        shmframe.Reader(name)
    with pytest.raises(ValueError):  # also a ValueError
        shmframe.Writer(name, FMT)


def test_bad_arguments_raise_value_errors():
    with pytest.raises(shmframe.InvalidArgument):
        shmframe.Format("NOPE", 64, 32)
    with pytest.raises(shmframe.InvalidArgument):
        shmframe.Format("NV12", 0, 32)
    with pytest.raises(shmframe.InvalidArgument):
        shmframe.Writer("args", FMT, policy="sometimes")
    with shmframe.Writer("args", FMT, user_meta_size=4) as writer:
        with pytest.raises(shmframe.InvalidArgument):
            writer.publish(writer.loan(), user_meta=b"too long")
        with pytest.raises(shmframe.InvalidArgument):
            shmframe.Reader("args", mode="sideways")
        with pytest.raises(shmframe.WriterExists):
            shmframe.Writer("args", FMT)


def test_a_paced_reader_gets_every_frame_of_a_steady_writer_and_says_how_it_waited():
    with shmframe.Writer("paced", shmframe.Format("GRAY8", 64, 32, fps=200)) as writer:
        with pytest.raises(shmframe.InvalidArgument):
            shmframe.Reader("paced", wait="sometimes")
        with pytest.raises(shmframe.InvalidArgument):
            shmframe.Reader("paced", spin=True, wait="paced")
        with shmframe.Reader("paced", mode="sequential", wait="paced") as reader:
            for value in range(40):
                publish(writer, value)
                with reader.next(timeout=5) as frame:
                    assert frame.meta.sequence == value + 1
                time.sleep(0.005)
            stats = reader.stats
            assert stats.received == 40 and stats.gaps == 0
            assert stats.paced_hits >= 0 and stats.paced_misses >= 0


def test_timeouts_raise_timeout_and_zero_raises_would_block():
    with shmframe.Writer("quiet", FMT), shmframe.Reader("quiet") as reader:
        with pytest.raises(shmframe.Timeout) as error:
            reader.next(timeout=0.05)
        assert isinstance(error.value, TimeoutError)
        with pytest.raises(shmframe.WouldBlock):
            reader.next(0)
        assert reader.poll() is None


def test_metadata_and_user_metadata_travel_with_each_frame():
    with shmframe.Writer("meta", FMT) as writer, shmframe.Reader("meta", mode="sequential") as reader:
        publish(writer, 1, pts=10, dts=9, duration=33, flags=shmframe.FLAG_KEYFRAME,
                user_meta=bytearray(b"\x00\x01binary"))
        publish(writer, 2)
        with reader.next(5) as frame:
            meta = frame.meta
            assert (meta.sequence, meta.pts, meta.dts, meta.duration) == (1, 10, 9, 33)
            assert meta.flags == shmframe.FLAG_KEYFRAME
            assert frame.user_meta == b"\x00\x01binary"
        with reader.next(5) as frame:
            assert (frame.meta.pts, frame.meta.dts, frame.user_meta) == (None, None, b"")
            assert frame.plane(0)[0, 0] == 2


def test_end_of_stream_then_writer_gone_then_reconnect_to_a_new_writer():
    writer = shmframe.Writer("restart", FMT)
    reader = shmframe.Reader("restart", mode="sequential")
    publish(writer, 7)
    writer.close()
    assert reader.next(5).plane(0)[0, 0] == 7
    with pytest.raises(shmframe.EndOfStream):
        reader.next(5)
    with pytest.raises(shmframe.WriterGone):
        reader.next(5)
    assert reader.state == "waiting for writer"
    with shmframe.Writer("restart", FMT) as again:
        deadline = time.monotonic() + 10
        while again.stats.readers == 0 and time.monotonic() < deadline:
            try:
                reader.next(0.05)
            except (shmframe.Timeout, shmframe.WriterGone):
                pass
        publish(again, 8)
        assert reader.next(5).plane(0)[0, 0] == 8
        assert reader.stats.reconnects >= 1
    reader.close()


def test_iteration_yields_frames_until_end_of_stream():
    with shmframe.Writer("iterate", FMT) as writer, shmframe.Reader("iterate", mode="sequential") as reader:
        for value in range(3):
            publish(writer, value)
        writer.end_of_stream()
        assert [int(frame.plane(0)[0, 0]) for frame in reader] == [0, 1, 2]


def test_an_array_held_past_its_frames_lease_keeps_its_pixels():
    with shmframe.Writer("held", FMT, slots=4) as writer, shmframe.Reader("held") as reader:
        publish(writer, 42)
        frame = reader.next(5)
        kept = frame.plane(0)
        frame.release()
        assert frame.released
        with pytest.raises(ValueError):
            frame.plane(0)
        del frame
        gc.collect()
        # The writer goes round its pool many times; the array's slot stays pinned.
        for value in range(20):
            publish(writer, 100 + value)
            with reader.next(5) as newer:
                assert newer.plane(0)[0, 0] == 100 + value
        assert np.all(kept == 42)
    # After the writer is gone too, the array is still readable.
    assert np.all(kept == 42)


def test_writing_through_a_readers_array_fails_even_if_numpy_is_told_it_may(processes):
    code = """
import shmframe, sys
w = shmframe.Writer("ro", shmframe.Format("GRAY8", 64, 32))
r = shmframe.Reader("ro")
f = w.loan(); f.plane(0)[:] = 1; w.publish(f)
a = r.next(5).plane(0)
try:
    a[0, 0] = 2
except ValueError:
    print("numpy refused", flush=True)
import ctypes
ctypes.memset(a.ctypes.data, 2, 1)   # the mapping itself is read-only: SIGSEGV
print("wrote", flush=True)
"""
    child = processes.python(code)
    out, _ = child.communicate(timeout=30)
    assert "numpy refused" in out
    assert "wrote" not in out
    assert child.returncode == -signal.SIGSEGV


def test_a_writer_killed_mid_frame_leaves_held_frames_intact_and_is_reported(processes):
    writer = processes.peer("die-mid-frame", "killed")
    reader = shmframe.Reader("killed", wait_for_writer=True)
    frame = reader.next(20)
    before = frame.plane(0).copy()
    assert writer.stdout.readline().strip() == "mid-frame"
    writer.kill()
    writer.wait(timeout=10)
    with pytest.raises(shmframe.WriterGone):
        reader.next(10)
    assert np.array_equal(frame.plane(0), before)  # the half-written slot never showed
    frame.release()
    reader.close()


def test_a_python_writer_killed_mid_frame_is_reported_as_writer_gone(processes):
    code = """
import os, shmframe, time
w = shmframe.Writer("pykilled", shmframe.Format("GRAY8", 64, 32))
while w.stats.readers == 0: time.sleep(0.01)
f = w.loan(); f.plane(0)[:] = 5; w.publish(f)
half = w.loan(); half.plane(0)[:16] = 99
print("mid-frame", flush=True)
time.sleep(60)
"""
    child = processes.python(code)
    reader = shmframe.Reader("pykilled", wait_for_writer=True, reconnect=False)
    with reader.next(20) as frame:
        assert np.all(frame.plane(0) == 5)
    assert child.stdout.readline().strip() == "mid-frame"
    child.kill()
    child.wait(timeout=10)
    with pytest.raises((shmframe.WriterGone, shmframe.NoWriter)):
        reader.next(10)
    reader.close()


def test_fileno_works_with_selectors():
    with shmframe.Writer("select", FMT) as writer, shmframe.Reader("select") as reader:
        with selectors.DefaultSelector() as selector:
            assert reader.poll() is None  # drained: the fd reports what comes next
            selector.register(reader.fileno(), selectors.EVENT_READ)
            publish(writer, 3)
            assert selector.select(timeout=5)
            assert reader.poll().plane(0)[0, 0] == 3


def test_async_for_reads_frames_without_blocking_the_event_loop():
    async def main():
        with shmframe.Writer("aio", FMT) as writer, shmframe.Reader("aio", mode="sequential") as reader:
            ticks = 0

            async def publisher():
                nonlocal ticks
                for value in range(5):
                    await asyncio.sleep(0.02)
                    ticks += 1
                    publish(writer, value)
                writer.end_of_stream()

            task = asyncio.create_task(publisher())
            values = [int(frame.plane(0)[0, 0]) async for frame in reader]
            await task
            with pytest.raises(shmframe.Timeout):
                await reader.next_async(timeout=0.05)
            return values, ticks

    values, ticks = asyncio.run(asyncio.wait_for(main(), 30))
    assert values == [0, 1, 2, 3, 4] and ticks == 5


def test_next_releases_the_gil_and_interrupt_stops_it_from_another_thread():
    with shmframe.Writer("threads", FMT), shmframe.Reader("threads") as reader:
        outcome = []

        def wait():
            try:
                reader.next(timeout=30)
            except shmframe.Interrupted:
                outcome.append("interrupted")

        thread = threading.Thread(target=wait)
        thread.start()
        counted = sum(1 for _ in range(200000))  # runs while next() waits
        time.sleep(0.1)
        reader.interrupt()
        thread.join(timeout=10)
        assert counted == 200000 and outcome == ["interrupted"]


def test_list_feeds_probe_and_feed_watch_see_a_writer():
    watch = shmframe.FeedWatch(rescan_interval=0.2)
    with shmframe.Writer("listed", FMT, slots=5):
        assert [info.name for info in shmframe.list_feeds()] == ["listed"]
        info = shmframe.probe("listed")
        assert info.slot_count == 5 and info.format == FMT
        events = watch.update()
        assert [(e.kind, e.feed.name) for e in events] == [("appeared", "listed")]
    with pytest.raises(shmframe.NoWriter):
        shmframe.probe("listed")


def test_probe_lists_each_reader_with_what_it_reports_of_itself():
    with shmframe.Writer("table", FMT, slots=6) as writer:
        with shmframe.Reader("table", client_name="keeps up") as keeps_up, shmframe.Reader(
            "table", mode="sequential", client_name="behind"
        ) as behind:
            for value in range(5):
                publish(writer, value)
                keeps_up.next(timeout=5)
            first = behind.next(timeout=5)
            del first
            info = shmframe.probe("table")
            assert info.responding and info.readers == 2
            rows = {row.client_name: row for row in info.reader_table}
            assert set(rows) == {"keeps up", "behind"}
            assert rows["keeps up"].mode == "latest" and rows["behind"].mode == "sequential"
            assert rows["keeps up"].received == 5 and rows["keeps up"].lag == 0
            assert rows["behind"].received == 1 and rows["behind"].lag == 4
            import os

            assert {row.pid for row in info.reader_table} == {os.getpid()}
            assert all(row.lease_limit >= 1 for row in info.reader_table)


def test_a_loan_dropped_or_left_unpublished_returns_its_slot():
    with shmframe.Writer("loans", FMT, slots=3) as writer:
        for _ in range(10):
            with writer.loan() as frame:
                frame.plane(0)[:] = 1
        loans = [writer.loan() for _ in range(3)]
        with pytest.raises(shmframe.WouldBlock):
            writer.loan()
        del loans
        gc.collect()
        writer.loan().drop()


def test_send_copies_an_image_into_a_slot():
    with shmframe.Writer("send", FMT) as writer, shmframe.Reader("send") as reader:
        image = np.arange(64 * 32, dtype=np.uint8).reshape(32, 64)
        writer.send(image, pts=5)
        with reader.next(5) as frame:
            assert np.array_equal(frame.plane(0), image) and frame.meta.pts == 5
        with pytest.raises(ValueError):
            writer.send(image[:10])
