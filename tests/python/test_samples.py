# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python samples run as programs: a synthetic camera, the filter, the reader
that saves PNGs, chained through real feeds."""
import os
import sys

import cv2
import numpy as np
import pytest

SAMPLES = os.environ.get("SHMFRAME_SAMPLES_DIR", "")


def sample(name):
    if not SAMPLES:
        pytest.skip("SHMFRAME_SAMPLES_DIR is not set (run through ctest)")
    return os.path.join(SAMPLES, name)


def test_camera_filter_and_reader_samples_chain_through_feeds(processes, tmp_path):
    saved = tmp_path / "png"
    reader = processes.start(sys.executable, sample("reader.py"), "edges", "--save", saved,
                             "--every", "1", "--frames", "3")
    filter_ = processes.start(sys.executable, sample("filter.py"), "camera", "edges",
                              "--frames", "200")
    camera = processes.start(sys.executable, sample("camera_publisher.py"), "camera",
                             "--synthetic", "--size", "320x240", "--fps", "30",
                             "--frames", "200")
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert "read 3 frames, saved 3" in out
    pngs = sorted(saved.iterdir())
    assert len(pngs) == 3
    image = cv2.imread(str(pngs[-1]), cv2.IMREAD_UNCHANGED)
    assert image.shape == (240, 320)
    assert set(np.unique(image)) <= {0, 255} and image.max() == 255  # Canny edges
    camera.kill()
    filter_.kill()
