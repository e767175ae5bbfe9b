#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""OpenCV's GStreamer back end (Debian's python3-opencv) drives shmframesink and
shmframesrc: a VideoWriter publishes a feed, a VideoCapture reads it back exactly.

Run by ctest with GST_PLUGIN_PATH set to the build tree. Exits 77 (skipped) when cv2
is missing or was built without GStreamer.
"""
import os
import shutil
import sys
import tempfile
import threading

SKIP = 77

try:
    import cv2
    import numpy as np
except ImportError as error:
    print(f"SKIP: {error}")
    sys.exit(SKIP)


def has_gstreamer():
    for line in cv2.getBuildInformation().splitlines():
        if line.strip().startswith("GStreamer:"):
            return "YES" in line
    return False


def main():
    if not has_gstreamer():
        print("SKIP: this OpenCV was built without GStreamer")
        return SKIP
    feed_dir = tempfile.mkdtemp(prefix="shmframe-py-")
    os.environ["SHMFRAME_DIR"] = feed_dir
    try:
        width, height = 64, 48
        image = np.zeros((height, width, 3), np.uint8)
        image[:, :] = (10, 200, 30)
        image[5:20, 7:40] = (250, 1, 128)  # not uniform, so rows must line up

        writer = cv2.VideoWriter("appsrc ! videoconvert ! shmframesink feed=py",
                                 cv2.CAP_GSTREAMER, 0, 30.0, (width, height), True)
        if not writer.isOpened():
            print("FAIL: VideoWriter did not open the shmframesink pipeline")
            return 1
        writer.write(image)

        stop = threading.Event()

        def feed():
            while not stop.is_set():
                writer.write(image)
                stop.wait(0.01)

        feeder = threading.Thread(target=feed)
        feeder.start()
        try:
            capture = cv2.VideoCapture("shmframesrc feed=py ! videoconvert ! appsink",
                                       cv2.CAP_GSTREAMER)
            if not capture.isOpened():
                print("FAIL: VideoCapture did not open the shmframesrc pipeline")
                return 1
            frame = None
            for _ in range(20):
                ok, frame = capture.read()
                if ok:
                    break
            capture.release()
        finally:
            stop.set()
            feeder.join()
            writer.release()
        if frame is None:
            print("FAIL: VideoCapture read no frame")
            return 1
        if frame.shape != image.shape or not np.array_equal(frame, image):
            print(f"FAIL: frame differs (shape {frame.shape}, max diff "
                  f"{int(np.abs(frame.astype(int) - image.astype(int)).max())})")
            return 1
        print("OK: VideoWriter -> shmframesink -> shmframesrc -> VideoCapture, pixel-exact")
        return 0
    finally:
        shutil.rmtree(feed_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
