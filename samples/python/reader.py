#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads a feed and shows its frames in a window, or saves every Nth as PNG.

    reader.py FEED [--save DIR] [--every N] [--frames N] [--show]
"""
import argparse
import os

import cv2

import shmframe


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("feed")
    parser.add_argument("--save", help="write PNGs into this directory")
    parser.add_argument("--every", type=int, default=30, help="save every Nth frame")
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0: never)")
    parser.add_argument("--show", action="store_true", help="show a window (needs a display)")
    args = parser.parse_args()
    if args.save:
        os.makedirs(args.save, exist_ok=True)

    count = saved = 0
    with shmframe.Reader(args.feed, wait_for_writer=True) as reader:
        for frame in reader:
            with frame:
                # BGR, BGRA and GRAY8 planes go to cv2 as they are; others convert.
                name = frame.format.pixel_format
                image = frame.plane(0) if name in ("BGR", "BGRA", "GRAY8") else shmframe.to_bgr(frame)
                if args.save and count % args.every == 0:
                    path = os.path.join(args.save, f"frame-{frame.meta.sequence:06d}.png")
                    cv2.imwrite(path, image)
                    saved += 1
                if args.show:
                    cv2.imshow(args.feed, image)
                    if cv2.waitKey(1) == 27:
                        break
                del image
            count += 1
            if args.frames and count >= args.frames:
                break
    print(f"read {count} frames, saved {saved}", flush=True)


if __name__ == "__main__":
    main()
