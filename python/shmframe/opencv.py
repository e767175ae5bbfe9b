# SPDX-License-Identifier: LGPL-2.1-or-later
"""OpenCV helpers. BGR, BGRA and GRAY planes go to cv2 as they are (no copy);
to_bgr() converts every other format into a new BGR image for display."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_bgr(frame: Any) -> np.ndarray:
    """A new H x W x 3 uint8 BGR image of a Frame or LoanedFrame (needs cv2).

    RGB(A/x), BGRx/BGRA, GRAY8, GRAY16_LE (top 8 bits), NV12, I420, YUY2 and UYVY
    are converted with cv2.cvtColor (BT.601, limited range, as cv2 does). A BGR
    frame is copied, so the result never aliases the shared slot."""
    import cv2

    name = frame.format.pixel_format
    planes = frame.planes
    if name == "BGR":
        return planes[0].copy()
    packed = {
        "RGB": cv2.COLOR_RGB2BGR,
        "RGBA": cv2.COLOR_RGBA2BGR,
        "RGBx": cv2.COLOR_RGBA2BGR,
        "BGRA": cv2.COLOR_BGRA2BGR,
        "BGRx": cv2.COLOR_BGRA2BGR,
        "GRAY8": cv2.COLOR_GRAY2BGR,
        "YUY2": cv2.COLOR_YUV2BGR_YUY2,
        "UYVY": cv2.COLOR_YUV2BGR_UYVY,
    }
    if name in packed:
        return cv2.cvtColor(planes[0], packed[name])
    if name == "GRAY16_LE":
        return cv2.cvtColor((planes[0] >> 8).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    if name == "NV12":
        return cv2.cvtColorTwoPlane(planes[0], planes[1], cv2.COLOR_YUV2BGR_NV12)
    if name == "I420":
        # cv2 wants Y, U and V stacked in one (H * 3 / 2) x W image.
        y, u, v = planes
        height, width = y.shape
        stacked = np.empty((height * 3 // 2, width), np.uint8)
        stacked[:height] = y
        chroma = stacked[height:].reshape(-1)
        chroma[: u.size] = u.reshape(-1)
        chroma[u.size :] = v.reshape(-1)
        return cv2.cvtColor(stacked, cv2.COLOR_YUV2BGR_I420)
    raise ValueError(f"to_bgr() does not know pixel format {name}")
