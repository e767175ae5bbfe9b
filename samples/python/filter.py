#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads a BGR feed, runs OpenCV on each frame and publishes the result as another
feed. cv2 reads the input slot and writes the output slot in place: no copy of
its own.

    filter.py INPUT OUTPUT [--filter edges|blur|gray] [--frames N]
"""
import argparse

import cv2

import shmframe


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--filter", choices=["edges", "blur", "gray"], default="edges")
    parser.add_argument("--frames", type=int, default=0, help="stop after N frames (0: never)")
    args = parser.parse_args()

    with shmframe.Reader(args.input, mode="sequential", wait_for_writer=True) as reader:
        writer = None
        count = 0
        for frame in reader:
            with frame:
                fmt = frame.format
                if fmt.pixel_format != "BGR":
                    raise SystemExit(f"{args.input} is {fmt.pixel_format}; this filter takes BGR")
                if writer is None:
                    out = shmframe.Format("GRAY8", fmt.width, fmt.height, fps=fmt.frame_rate)
                    writer = shmframe.Writer(args.output, out)
                    print(f"filtering {fmt.describe()} into '{args.output}'", flush=True)
                result = writer.loan()
                target = result.plane(0)
                gray = cv2.cvtColor(frame.plane(0), cv2.COLOR_BGR2GRAY)
                if args.filter == "edges":
                    cv2.Canny(gray, 80, 160, edges=target)
                elif args.filter == "blur":
                    cv2.GaussianBlur(gray, (9, 9), 0, dst=target)
                else:
                    target[:] = gray
                del target
                writer.publish(result, pts=frame.meta.pts, user_meta=frame.user_meta)
            count += 1
            if args.frames and count >= args.frames:
                break
        if writer is not None:
            writer.close()
    print(f"filtered {count} frames", flush=True)


if __name__ == "__main__":
    main()
