# SPDX-License-Identifier: LGPL-2.1-or-later
"""The exceptions of shmframe: one class per library error code.

Every exception is a :class:`shmframe.Error` carrying ``code`` (the library's
stable name, such as ``"no-writer"``), ``message`` (a sentence a user can act on)
and ``errno`` (the system error, or 0). Where a Python built-in means the same,
the class derives from it too: ``Timeout`` is a ``TimeoutError``,
``PermissionDenied`` a ``PermissionError``, ``InvalidArgument`` and
``InvalidFeedName`` are ``ValueError``.
"""

from __future__ import annotations


class Error(Exception):
    """A shmframe failure: ``code``, ``message`` and ``errno``."""

    code = "error"

    def __init__(self, message: str = "", errno: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidArgument(Error, ValueError):
    """A value passed in is out of range or malformed."""

    code = "invalid-argument"


class InvalidFeedName(Error, ValueError):
    """A feed name outside ``[A-Za-z0-9._-]{1,64}`` that is not an absolute path."""

    code = "invalid-feed-name"


class NoWriter(Error):
    """Nobody publishes this feed."""

    code = "no-writer"


class WriterExists(Error):
    """Another live writer owns the feed (the message names its pid)."""

    code = "writer-exists"


class PermissionDenied(Error, PermissionError):
    """The peer's access policy refused us, or the system did."""

    code = "permission-denied"


class ProtocolMismatch(Error):
    """The peer speaks another protocol version."""

    code = "protocol-mismatch"


class BadMessage(Error):
    """A socket message was truncated, oversized or malformed."""

    code = "bad-message"


class BadPool(Error):
    """The shared pool failed validation (the message names the field)."""

    code = "bad-pool"


class Timeout(Error, TimeoutError):
    """Nothing arrived within the timeout."""

    code = "timeout"


class WouldBlock(Error):
    """The call would have to wait (``next(timeout=0)``, no free slot to loan)."""

    code = "would-block"


class WriterGone(Error):
    """The writer hung up; with ``reconnect=True`` the reader waits for the next one."""

    code = "writer-gone"


class EndOfStream(Error):
    """The writer signalled end of stream."""

    code = "end-of-stream"


class Dropped(Error):
    """The writer dropped this reader (the message says why)."""

    code = "dropped"


class SystemCallError(Error, OSError):
    """A system call failed (``errno`` says which error)."""

    code = "system-error"

    def __init__(self, message: str = "", errno: int = 0) -> None:
        Error.__init__(self, message, errno)


class Unsupported(Error):
    """The format or operation is not supported."""

    code = "unsupported"


class Interrupted(Error):
    """``Reader.interrupt()`` cut a wait short."""

    code = "interrupted"


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        InvalidFeedName,
        NoWriter,
        WriterExists,
        PermissionDenied,
        ProtocolMismatch,
        BadMessage,
        BadPool,
        Timeout,
        WouldBlock,
        WriterGone,
        EndOfStream,
        Dropped,
        SystemCallError,
        Unsupported,
        Interrupted,
    )
}


def _from_code(code: str, message: str, errno: int) -> Error:
    """The exception for a library error (called by the extension)."""
    cls = _BY_CODE.get(code, Error)
    error = cls(message, errno)
    if cls is Error:
        error.code = code
    return error


__all__ = ["Error"] + sorted(cls.__name__ for cls in _BY_CODE.values())
