# SPDX-License-Identifier: LGPL-2.1-or-later
"""The pixel pattern both sides of the tests write (tests/python/py_peer.cpp):
byte `column` of row `row` of plane `plane` of frame `n` is
(plane * 61 + row * 7 + column * 3 + n * 11) mod 256."""
import numpy as np


def expected_rows(plane, rows, row_bytes, frame):
    row = np.arange(rows, dtype=np.int64)[:, None]
    column = np.arange(row_bytes, dtype=np.int64)[None, :]
    return ((plane * 61 + row * 7 + column * 3 + frame * 11) % 256).astype(np.uint8)


def as_rows(array):
    """A plane array as rows of bytes (padding left out)."""
    raw = array.view(np.uint8) if array.dtype.itemsize > 1 else array
    return np.ascontiguousarray(raw).reshape(array.shape[0], -1)


def fill(array, plane, frame):
    """Writes the pattern into a writable plane array, in place."""
    rows = as_rows(array)
    values = expected_rows(plane, rows.shape[0], rows.shape[1], frame)
    target = array.view(np.uint8) if array.dtype.itemsize > 1 else array
    target[...] = values.reshape(target.shape)
