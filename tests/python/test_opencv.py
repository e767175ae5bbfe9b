# SPDX-License-Identifier: LGPL-2.1-or-later
"""OpenCV takes the arrays as they are, and to_bgr() converts the YUV formats as
cv2 does for the same bytes."""
import cv2
import numpy as np
import pytest

import shmframe


def roundtrip(pixel_format, fill):
    fmt = shmframe.Format(pixel_format, 64, 48, stride_align=64)
    with shmframe.Writer("cv", fmt) as writer, shmframe.Reader("cv") as reader:
        frame = writer.loan()
        fill(frame.planes)
        writer.publish(frame)
        return reader.next(5)


def test_cv2_functions_read_bgr_and_gray_planes_in_place():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    with roundtrip("BGR", lambda planes: planes[0].__setitem__(Ellipsis, image)) as frame:
        plane = frame.plane(0)
        assert np.array_equal(cv2.cvtColor(plane, cv2.COLOR_BGR2GRAY),
                              cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
        assert cv2.mean(plane)[:3] == pytest.approx(cv2.mean(image)[:3])
        assert np.array_equal(shmframe.to_bgr(frame), image)


@pytest.mark.parametrize("pixel_format, code", [
    ("YUY2", cv2.COLOR_YUV2BGR_YUY2),
    ("UYVY", cv2.COLOR_YUV2BGR_UYVY),
    ("NV12", cv2.COLOR_YUV2BGR_NV12),
    ("I420", cv2.COLOR_YUV2BGR_I420),
])
def test_to_bgr_converts_yuv_like_cv2_does(pixel_format, code):
    rng = np.random.default_rng(2)

    def fill(planes):
        for plane in planes:
            plane[...] = rng.integers(16, 236, plane.shape, dtype=np.uint8)

    with roundtrip(pixel_format, fill) as frame:
        planes = [p.copy() for p in frame.planes]
        if pixel_format in ("NV12", "I420"):
            packed = np.concatenate([p.reshape(-1) for p in planes]).reshape(72, 64)
        else:
            packed = planes[0]
        expected = cv2.cvtColor(packed, code)
        assert np.array_equal(shmframe.to_bgr(frame), expected)
