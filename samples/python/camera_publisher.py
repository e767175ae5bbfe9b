#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Publishes a camera (cv2.VideoCapture) or, with --synthetic, a moving test scene
as a shmframe feed of BGR frames, written straight into the pool's slots.

    camera_publisher.py cam0 [--device 0] [--synthetic] [--size 640x480] [--fps 30]
                        [--frames N]
"""
import argparse
import sys
import time

import cv2
import numpy as np

import shmframe


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feed")
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--synthetic", action="store_true", help="a test scene, no camera")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0: never)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    camera = None
    if not args.synthetic:
        camera = cv2.VideoCapture(args.device)
        if not camera.isOpened():
            sys.exit(f"no camera {args.device} (use --synthetic for a test scene)")
        camera.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        camera.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    fmt = shmframe.Format("BGR", width, height, fps=args.fps)
    with shmframe.Writer(args.feed, fmt) as writer:
        print(f"publishing {fmt.describe()} as '{args.feed}'", flush=True)
        start = time.monotonic()
        count = 0
        while not args.frames or count < args.frames:
            frame = writer.loan()
            image = frame.plane(0)  # H x W x 3, in the slot
            if camera is not None:
                ok, captured = camera.read()
                if not ok:
                    break
                cv2.resize(captured, (width, height), dst=image)
            else:
                image[:] = (40, 40, 40)
                x = int((count * 4) % max(1, width - 60))
                cv2.rectangle(image, (x, height // 3), (x + 60, height // 3 + 60), (0, 200, 255), -1)
                cv2.putText(image, f"{count}", (10, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                            (255, 255, 255), 2)
            del image
            writer.publish(frame, pts=int(count * 1e9 / args.fps))
            count += 1
            # Pace the synthetic scene; a camera paces itself.
            if camera is None:
                time.sleep(max(0.0, start + count / args.fps - time.monotonic()))
    print(f"published {count} frames", flush=True)


if __name__ == "__main__":
    main()
