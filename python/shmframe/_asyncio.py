# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio support: frames awaited on the reader's fd (loop.add_reader), no thread."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator, Optional

from .errors import EndOfStream, Timeout, WouldBlock, WriterGone

if TYPE_CHECKING:  # pragma: no cover
    from . import Frame, Reader


async def _readable(loop: asyncio.AbstractEventLoop, fd: int) -> None:
    ready = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)


async def next_frame(reader: "Reader", timeout: Optional[float] = None) -> "Frame":
    """The next frame; raises like Reader.next(), Timeout after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = None if timeout is None else loop.time() + timeout
    while True:
        try:
            return reader.next(0)
        except WouldBlock:
            pass
        # The fd of a reader waiting for a writer can change when one connects: ask
        # each time.
        if deadline is None:
            await _readable(loop, reader.fileno())
            continue
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise Timeout(f"no frame from feed '{reader.feed}' within {timeout} s")
        try:
            await asyncio.wait_for(_readable(loop, reader.fileno()), remaining)
        except asyncio.TimeoutError:
            pass


async def frames(reader: "Reader", reconnect: bool) -> AsyncIterator["Frame"]:
    """`async for frame in reader`: frames until end of stream."""
    while True:
        try:
            yield await next_frame(reader)
        except EndOfStream:
            return
        except WriterGone:
            if not reconnect:
                raise
