#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that the viewer's colour bars are in an image, in order, left to right.

Reads ImageMagick's "txt:" dump of an image on stdin (convert IMG -sample WxH! txt:-)
and exits 0 when some row shows white, yellow, cyan, green, magenta, red, blue as
consecutive runs (black, the last bar, may merge into a black background).

usage: convert shot.png -sample 320x256! txt:- | check_bars.py TOLERANCE LABEL
"""
import re
import sys

BARS = [(255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
        (255, 0, 255), (255, 0, 0), (0, 0, 255)]
PIXEL = re.compile(r"^(\d+),(\d+):.*?#([0-9A-Fa-f]{6})")


def bar_of(rgb, tolerance):
    for index, bar in enumerate(BARS):
        if all(abs(a - b) <= tolerance for a, b in zip(rgb, bar)):
            return index
    return -1


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tolerance = int(sys.argv[1])
    label = sys.argv[2]
    rows = {}
    for line in sys.stdin:
        match = PIXEL.match(line)
        if not match:
            continue
        x, y, hexa = int(match.group(1)), int(match.group(2)), match.group(3)
        rgb = tuple(int(hexa[i:i + 2], 16) for i in (0, 2, 4))
        rows.setdefault(y, []).append((x, bar_of(rgb, tolerance)))
    if not rows:
        print(f"{label}: no pixels read", file=sys.stderr)
        return 1
    best = []
    for y, pixels in sorted(rows.items()):
        runs = []
        for _, bar in sorted(pixels):
            if runs and runs[-1][0] == bar:
                runs[-1][1] += 1
            else:
                runs.append([bar, 1])
        # Runs of 2+ samples; single samples are edges blended by scaling.
        sequence = [bar for bar, length in runs if bar >= 0 and length >= 2]
        for start in range(len(sequence)):
            if sequence[start:start + len(BARS)] == list(range(len(BARS))):
                print(f"{label}: bars found in order on row {y}")
                return 0
        if len(sequence) > len(best):
            best = sequence
    print(f"{label}: the bars are not on screen (longest run sequence seen: {best})",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
