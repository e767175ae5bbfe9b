#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python package against the C++ API and against OpenCV's GStreamer back end,
in one run: a Python writer publishes stamped BGR frames at a fixed rate; in turn
a C++ reader (shmframe_bench_api reader), a Python reader (shmframe.Reader.next())
and cv2.VideoCapture("shmframesrc ! appsink") read them in their own processes.
Latency is publish stamp -> reader's first read of the frame's pixels; CPU is per
frame (reader thread for C++ and Python; whole process for cv2, whose GStreamer
pipeline runs threads). Measures and reports; never fails because of a number.

    python_bench.py --build-dir BUILD [--sizes 1920x1080,3840x2160] [--frames N]
                    [--fps F] [--quick] [--json FILE]

Run with Debian's /usr/bin/python3 (numpy, cv2) and PYTHONPATH=BUILD/python.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

STAMP_CHECK = 0x53484D4642454E43  # tests/bench/bench_common.cpp kStampCheck ("SHMFBENC")
MASK = (1 << 64) - 1


def read_stamp(pixels):
    """(time_ns, index) from the first 24 bytes of a frame, or None."""
    words = np.frombuffer(pixels, dtype="<u8", count=3)
    time_ns, index, check = (int(w) for w in words)
    return (time_ns, index) if (time_ns ^ index ^ STAMP_CHECK) & MASK == check else None


def summary(samples_us):
    if not samples_us:
        return {}
    values = np.sort(np.asarray(samples_us))
    return {"count": len(values), "p50": float(np.percentile(values, 50)),
            "p90": float(np.percentile(values, 90)), "p99": float(np.percentile(values, 99))}


# --- readers (child processes) -------------------------------------------------------

def python_reader(args):
    import shmframe
    reader = shmframe.Reader(args.feed, reconnect=False, client_name="python-bench")
    print("ready", flush=True)
    samples, cpu_start = [], None
    while True:
        try:
            frame = reader.next(5.0)
        except (shmframe.EndOfStream, shmframe.Timeout, shmframe.WriterGone):
            break
        stamp = read_stamp(frame.plane(0).reshape(-1)[:24])  # first read of the pixels
        now = shmframe.monotonic_ns()
        frame.release()
        if stamp is None or stamp[1] < args.warmup:
            continue
        if cpu_start is None:
            cpu_start = time.thread_time_ns()
        samples.append((now - stamp[0]) / 1000.0)
    cpu = time.thread_time_ns() - (cpu_start or 0)
    print(json.dumps({"samples": samples, "cpu_us": cpu / 1000.0 / max(1, len(samples) - 1)}),
          flush=True)


def cv2_reader(args):
    import cv2
    pipeline = (f"shmframesrc feed={args.feed} ! videoconvert ! video/x-raw,format=BGR ! "
                "appsink sync=false max-buffers=2 drop=true")
    capture = cv2.VideoCapture(pipeline, cv2.CAP_GSTREAMER)
    if not capture.isOpened():
        print(json.dumps({"error": "cv2.VideoCapture could not open shmframesrc"}), flush=True)
        return
    print("ready", flush=True)
    samples, cpu_start = [], None
    while True:
        ok, image = capture.read()
        if not ok:
            break
        now = time.monotonic_ns()
        stamp = read_stamp(image.reshape(-1)[:24])
        if stamp is None or stamp[1] < args.warmup:
            continue
        if cpu_start is None:
            cpu_start = time.process_time_ns()
        samples.append((now - stamp[0]) / 1000.0)
        if stamp[1] + 1 >= args.warmup + args.frames:
            break
    cpu = time.process_time_ns() - (cpu_start or 0)
    capture.release()
    print(json.dumps({"samples": samples, "cpu_us": cpu / 1000.0 / max(1, len(samples) - 1)}),
          flush=True)


# --- the writer and the run -----------------------------------------------------------

def session(series, width, height, args, env):
    import shmframe
    feed = f"pybench-{os.getpid()}-{series}"
    fmt = shmframe.Format("BGR", width, height, fps=args.fps)
    writer = shmframe.Writer(feed, fmt, slots=4)
    if series == "cpp-api":
        command = [os.path.join(args.build_dir, "tests/bench/shmframe_bench_api"), "reader",
                   "--feed", feed, "--wait", "block", "--warmup", str(args.warmup),
                   "--frames", str(args.frames), "--timeout-ms", "120000"]
    else:
        command = [sys.executable, os.path.abspath(__file__), f"{series}-reader", "--feed", feed,
                   "--warmup", str(args.warmup), "--frames", str(args.frames)]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True)
    try:
        deadline = time.monotonic() + 30
        while writer.stats.readers == 0 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        if writer.stats.readers == 0:
            return {"skipped": "the reader did not connect"}
        time.sleep(0.5)  # let it settle (cv2: the pipeline prerolls)
        period = 1e9 / args.fps
        start = time.monotonic_ns()
        for index in range(args.warmup + args.frames):
            target = start + int(index * period)
            while time.monotonic_ns() < target:
                time.sleep(max(0.0, (target - time.monotonic_ns()) / 1e9 - 0.0005))
            frame = writer.loan()
            stamp = frame.buffer[:24].view("<u8")
            now = shmframe.monotonic_ns()
            stamp[:] = (now, index, (now ^ index ^ STAMP_CHECK) & MASK)
            del stamp
            writer.publish(frame, pts=index)
        time.sleep(0.2)
        writer.end_of_stream()
        out, _ = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        writer.close()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        return {"skipped": "the reader gave no result"}
    result = json.loads(lines[-1])
    if "error" in result:
        return {"skipped": result["error"]}
    return {"latency_us": summary(result["samples"]), "cpu_us": result["cpu_us"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="run",
                        choices=["run", "python-reader", "cv2-reader"])
    parser.add_argument("--build-dir", default=os.environ.get("SHMFRAME_BUILD_DIR", "build"))
    parser.add_argument("--sizes", default="1920x1080,3840x2160")
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--feed")
    parser.add_argument("--quick", action="store_true", help="60 frames at 1280x720")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    if args.command == "python-reader":
        return python_reader(args)
    if args.command == "cv2-reader":
        return cv2_reader(args)
    if args.quick:
        args.sizes, args.frames = "1280x720", 60

    build = os.path.abspath(args.build_dir)
    args.build_dir = build
    feeds = tempfile.mkdtemp(prefix="sf-pybench-")
    env = dict(os.environ, SHMFRAME_DIR=feeds,
               PYTHONPATH=os.path.join(build, "python") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               GST_PLUGIN_PATH=os.path.join(build, "plugins"),
               GST_REGISTRY=os.path.join(feeds, "registry.bin"))
    os.environ.update(env)
    sys.path.insert(0, os.path.join(build, "python"))
    results = []
    load_start = open("/proc/loadavg").read().split()[:3]
    try:
        for size in args.sizes.split(","):
            width, height = (int(v) for v in size.split("x"))
            for series in ("cpp-api", "python", "cv2"):
                print(f"  {series:8} {size}", file=sys.stderr, flush=True)
                record = {"series": series, "width": width, "height": height}
                record.update(session(series, width, height, args, env))
                results.append(record)
                print(json.dumps(record), flush=True)
    finally:
        shutil.rmtree(feeds, ignore_errors=True)
    load_end = open("/proc/loadavg").read().split()[:3]

    print(f"\nload average {' '.join(load_start)} -> {' '.join(load_end)}; "
          f"{args.frames} frames at {args.fps:g} fps, BGR\n")
    print("| size | reader | p50 µs | p90 µs | p99 µs | CPU µs/frame | p50 vs C++ | CPU vs Python |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        rows = {r["series"]: r for r in results if (r["width"], r["height"]) == (width, height)}
        cpp = rows.get("cpp-api", {}).get("latency_us", {}).get("p50")
        python_cpu = rows.get("python", {}).get("cpu_us")
        for series, label in (("cpp-api", "C++ Reader::next()"), ("python", "Python Reader.next()"),
                              ("cv2", "cv2.VideoCapture(shmframesrc)")):
            row = rows.get(series, {})
            if "skipped" in row or not row.get("latency_us"):
                print(f"| {size} | {label} | skipped: {row.get('skipped', 'no samples')} | | | | | |")
                continue
            lat = row["latency_us"]
            ratio = f"{lat['p50'] / cpp:.2f}x" if cpp else "-"
            cpu_ratio = f"{row['cpu_us'] / python_cpu:.1f}x" if python_cpu else "-"
            print(f"| {size} | {label} | {lat['p50']:.0f} | {lat['p90']:.0f} | {lat['p99']:.0f} | "
                  f"{row['cpu_us']:.1f} | {ratio} | {cpu_ratio} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"load_start": load_start, "load_end": load_end, "results": results}, out)


if __name__ == "__main__":
    sys.exit(main())
