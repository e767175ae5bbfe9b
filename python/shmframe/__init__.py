# SPDX-License-Identifier: LGPL-2.1-or-later
"""shmframe: video frames shared between processes, as numpy arrays, without a copy.

Read a feed::

    import shmframe
    with shmframe.Reader("cam0") as reader:
        for frame in reader:                  # until end of stream
            with frame:
                image = frame.plane(0)        # read-only numpy array over the slot

Write one::

    fmt = shmframe.Format("BGR", 640, 480, fps=30)
    with shmframe.Writer("cam0", fmt) as writer:
        frame = writer.loan()
        frame.plane(0)[:] = 255               # write pixels in place
        writer.publish(frame, pts=0)

Errors are exceptions derived from :class:`shmframe.Error` (``NoWriter``,
``Timeout``, ``EndOfStream``, ``WriterGone``, ...). See docs/python.md.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional

from . import _asyncio
from ._shmframe import (
    FLAG_DISCONT,
    FLAG_GAP,
    FLAG_INTERLACED,
    FLAG_KEYFRAME,
    FeedEvent,
    FeedInfo,
    FeedReader,
    FeedWatch,
    Format,
    Frame,
    FrameMeta,
    LoanedFrame,
    Plane,
    ReaderStats,
    WriterInfo,
    WriterStats,
    __version__,
    _Reader,
    _Writer,
    feed_directory,
    list_feeds,
    monotonic_ns,
    pixel_formats,
    probe,
)
from .errors import *  # noqa: F401,F403  (the exception classes)
from .errors import EndOfStream, Error, WriterGone
from .opencv import to_bgr


class Reader(_Reader):
    """Reads the frames of one feed.

    ``Reader(feed, mode="latest", wait_for_writer=False, reconnect=True, spin=False,
    client_name="python", wait=None)``

    * ``feed``: a feed name (``[A-Za-z0-9._-]{1,64}``) or an absolute socket path.
    * ``mode``: ``"latest"`` (the newest frame; skipped frames are counted) or
      ``"sequential"`` (every frame while the reader keeps up).
    * ``wait_for_writer``: open without a writer; ``next()`` waits for one.
      Otherwise a feed nobody writes raises :class:`NoWriter`.
    * ``reconnect``: after the writer goes, wait for the next one.
    * ``spin``: busy-poll instead of sleeping (lowest latency, one core busy); the
      same as ``wait="spin"``.
    * ``wait``: how ``next()`` waits: ``"block"`` (the default), ``"spin"``, or
      ``"paced"``: sleep until the next frame is nearly due (from the feed's frame
      rate or its recent publish times), spin briefly for it, and sleep as
      ``"block"`` when it is late or the feed is irregular: spin's latency for
      frames that come on time at a small part of its CPU.

    Methods:

    * ``next(timeout=None)``: the next :class:`Frame`, waiting up to ``timeout``
      seconds (None: forever; 0: raise :class:`WouldBlock` unless one is there).
      Raises :class:`Timeout`, :class:`EndOfStream`, :class:`WriterGone` (once, when
      the writer hangs up), :class:`NoWriter`, :class:`Interrupted`. The GIL is
      released while it waits.
    * ``poll()``: a frame if one is ready now, else None.
    * ``fileno()``: readable whenever ``next()`` has something to say (for
      ``selectors``, ``select`` or asyncio): call ``poll()`` until it returns None,
      then wait for the fd.
    * ``interrupt()``: makes a waiting ``next()`` (in another thread) raise
      :class:`Interrupted`.
    * ``close()``: disconnects; frames still held stay valid.
    * ``for frame in reader`` yields frames until end of stream (a writer that goes
      is waited for when ``reconnect`` is on); ``async for frame in reader`` does the
      same without blocking the event loop.

    Properties: ``state`` ("connected", "waiting for writer", "end of stream"),
    ``format`` (None while no writer serves us), ``stats``, ``writer``, ``feed``,
    ``socket_path``, ``closed``.
    """

    def __init__(
        self,
        feed: str,
        mode: str = "latest",
        wait_for_writer: bool = False,
        reconnect: bool = True,
        spin: bool = False,
        client_name: str = "python",
        wait: Optional[str] = None,
    ) -> None:
        super().__init__(feed, mode, wait_for_writer, reconnect, spin, client_name, wait)
        self._reconnect = reconnect

    def poll(self) -> Optional[Frame]:
        """A frame if one is ready now, else None (EndOfStream etc. still raise)."""
        try:
            return self.next(0)
        except _WouldBlock:
            return None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            try:
                yield self.next()
            except EndOfStream:
                return
            except WriterGone:
                if not self._reconnect:
                    raise

    def __aiter__(self) -> AsyncIterator[Frame]:
        return _asyncio.frames(self, self._reconnect)

    async def next_async(self, timeout: Optional[float] = None) -> Frame:
        """Like next(), awaiting the reader's fd on the running asyncio loop."""
        return await _asyncio.next_frame(self, timeout)


class Writer(_Writer):
    """Publishes the frames of one feed from a pool of slots in shared memory.

    ``Writer(feed, format, slots=4, policy="never-block", lease_limit=2,
    user_meta_size=256, lossless_timeout=1.0, access="uid")``

    * ``format``: a :class:`Format` (``Format("BGR", 1280, 720, fps=30)``).
    * ``slots``: frames in the pool (3 to 64).
    * ``policy``: ``"never-block"`` (no reader ever delays the writer) or
      ``"lossless"`` (``loan()`` waits up to ``lossless_timeout`` seconds for the
      slowest sequential reader, then drops it).
    * ``lease_limit``: frames one reader may hold at once (1 to 16).
    * ``user_meta_size``: bytes of user metadata each frame can carry.
    * ``access``: who may read: ``"uid"``, ``"any"``, ``"uid:1000,1001"``,
      ``"gid:44"``.

    Raises :class:`WriterExists` when another live writer owns the feed.

    ``loan()`` gives a :class:`LoanedFrame` whose planes are writable numpy arrays
    over a slot; ``publish(frame, pts=..., dts=..., duration=..., flags=...,
    user_meta=...)`` hands it to the readers; ``send(image, ...)`` copies an image
    into a slot and publishes it; ``close()`` (or leaving a ``with`` block) ends the
    stream and the feed.
    """

    def send(self, *planes: Any, **meta: Any) -> None:
        """Copies arrays (one per plane, shaped like ``LoanedFrame.plane(i)``) into a
        slot and publishes it; keyword arguments are publish()'s."""
        frame = self.loan()
        if len(planes) != frame.format.plane_count:
            frame.drop()
            raise ValueError(
                f"send() needs {frame.format.plane_count} plane(s) for "
                f"{frame.format.pixel_format}, got {len(planes)}"
            )
        try:
            for index, plane in enumerate(planes):
                target = frame.plane(index)
                if getattr(plane, "shape", None) != target.shape:
                    raise ValueError(
                        f"plane {index} has shape {getattr(plane, 'shape', None)}, "
                        f"the format needs {target.shape}"
                    )
                target[...] = plane
            self.publish(frame, **meta)
        finally:
            frame.drop()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


from .errors import WouldBlock as _WouldBlock  # noqa: E402

__all__ = [
    "FLAG_DISCONT",
    "FLAG_GAP",
    "FLAG_INTERLACED",
    "FLAG_KEYFRAME",
    "Error",
    "FeedEvent",
    "FeedInfo",
    "FeedReader",
    "FeedWatch",
    "Format",
    "Frame",
    "FrameMeta",
    "LoanedFrame",
    "Plane",
    "Reader",
    "ReaderStats",
    "Writer",
    "WriterInfo",
    "WriterStats",
    "__version__",
    "feed_directory",
    "list_feeds",
    "monotonic_ns",
    "pixel_formats",
    "probe",
    "to_bgr",
] + errors.__all__
