#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Viewer benchmark: CPU per frame and publish -> paint latency of shmframe-viewer
under Xvfb, for each painting path, at 1920x1080 RGBA 60 fps and 3840x2160 RGBA
30 fps (plus 1080p NV12, where the QImage path converts YUV on the CPU).

Not a test: it prints numbers (a Markdown table, and JSON with --json) and passes
no judgement. Each case starts its own writer and viewer; one Xvfb serves them all.

  tests/bench/viewer_bench.py --build-dir build [--seconds 6] [--repeats 3]

Columns:
  painted fps      frames the viewer painted per second after the warm-up (the writer's
                   rate if it keeps up)
  viewer CPU/frame CPU time of the viewer process (all its threads, Mesa's included)
                   per painted frame, after a 30-frame warm-up (viewer's own count)
  viewer core %    the viewer's CPU time over the same wall time: share of one core
  Xvfb CPU/frame   the X server's CPU per painted frame (it copies what the viewer
                   puts), over the viewer's whole run
  p50/p90/p99      CLOCK_MONOTONIC at the end of the paint that first shows a frame,
                   minus the frame's publish time (before the X server shows it)
  skipped          frames the reader skipped (newer ones replaced them before it looked),
                   of all it saw; a frame received but replaced before a paint is not painted
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

CASES = [
    # (label, format, width, height, fps, window, extra viewer args)
    ("1080p RGBA 60 fps, fit 1280x720", "RGBA", 1920, 1080, 60, "1280x720", []),
    ("1080p RGBA 60 fps, 1:1", "RGBA", 1920, 1080, 60, "1940x1140", ["--actual-size"]),
    ("4K RGBA 30 fps, fit 1280x720", "RGBA", 3840, 2160, 30, "1280x720", []),
    ("4K RGBA 30 fps, 1:1", "RGBA", 3840, 2160, 30, "3860x2220", ["--actual-size"]),
    ("1080p NV12 60 fps, fit 1280x720", "NV12", 1920, 1080, 60, "1280x720", []),
]
PAINTERS = ["qimage", "opengl"]
WARMUP_SECONDS = 2.0


def cpu_seconds(pid):
    """utime + stime of a process (all threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return None


def stop(process):
    if process.poll() is None:
        process.kill()
    process.wait()


def start_xvfb(workdir):
    """Xvfb on a display it picks itself (-displayfd), big enough for a 4K window."""
    display_file = os.path.join(workdir, "display")
    with open(display_file, "w") as out:
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(out.fileno()), "-screen", "0", "3900x2300x24",
             "-nolisten", "tcp", "-br", "-noreset"],
            pass_fds=(out.fileno(),), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with open(display_file) as f:
            number = f.read().strip()
        if number:
            return xvfb, ":" + number
        time.sleep(0.1)
    stop(xvfb)
    raise RuntimeError("Xvfb did not start")


def run_case(args, env, xvfb, case, painter):
    label, pixel_format, width, height, fps, window, extra = case
    feed = "bench"
    writer = subprocess.Popen(
        [args.writer, "--feed", feed, "--format", pixel_format, "--size", f"{width}x{height}",
         "--fps", str(fps), "--slots", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        if "ready" not in writer.stdout.readline():
            raise RuntimeError("writer did not start: " + writer.stderr.read())
        stats_file = os.path.join(env["SHMFRAME_DIR"], "stats.json")
        xvfb_before = cpu_seconds(xvfb.pid)
        viewer = subprocess.Popen(
            [args.viewer, "--painter", painter, "--window-size", window, "--stats-file",
             stats_file, *extra, feed],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        # Wall time, not a frame count: a painter that cannot keep up paints fewer
        # frames, which is a result too. The viewer measures after its own warm-up
        # (30 frames) and writes its statistics when SIGTERM makes it quit.
        time.sleep(WARMUP_SECONDS + args.seconds)
        viewer.send_signal(signal.SIGTERM)
        try:
            _, viewer_err = viewer.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            stop(viewer)
            raise RuntimeError("viewer did not quit on SIGTERM")
        xvfb_cpu = cpu_seconds(xvfb.pid) - xvfb_before
        if viewer.returncode != 0:
            raise RuntimeError(f"viewer exited {viewer.returncode}: {viewer_err.strip()}")
        with open(stats_file) as f:
            stats = json.load(f)
    finally:
        stop(writer)
    feed_stats = stats["feeds"][0]
    painted = feed_stats["frames_painted"]
    measured = stats.get("frames_painted_measured", 0)
    cpu_ns = stats.get("cpu_ns", 0)
    received = feed_stats["frames_received"]
    skipped = feed_stats.get("skipped", 0)
    wall_s = stats.get("measured_wall_ns", 0) / 1e9
    if not wall_s:
        raise RuntimeError(f"the viewer painted only {painted} frames (no measurement)")
    result = {
        "case": label, "painter": painter,
        "painted_via": feed_stats["paint_path"],
        "fps_target": fps,
        "painted_fps": measured / wall_s if wall_s else 0.0,
        "frames_painted": painted,
        "viewer_cpu_ms_per_frame": stats.get("cpu_ns_per_painted_frame", 0) / 1e6,
        # CPU over the measured frames at the writer's rate: the share of one core.
        "viewer_core_percent": 100.0 * (cpu_ns / 1e9) / wall_s if wall_s else 0.0,
        "xvfb_cpu_ms_per_frame": 1000.0 * xvfb_cpu / painted if painted else 0.0,
        "latency_ms": {k: feed_stats["publish_to_paint_ns"][k] / 1e6 for k in ("p50", "p90", "p99")},
        "skipped": skipped,
        "copies": feed_stats.get("copies", 0),
        "received": received,
    }
    if "cpu_yuv_conversion_ns" in feed_stats:
        result["cpu_yuv_conversion_ms_p50"] = feed_stats["cpu_yuv_conversion_ns"]["p50"] / 1e6
    return result


def median_of(runs):
    """Per-field medians of several runs of one case."""
    out = dict(runs[0])
    for key in ("painted_fps", "viewer_cpu_ms_per_frame", "viewer_core_percent", "xvfb_cpu_ms_per_frame",
                "skipped", "frames_painted", "received", "cpu_yuv_conversion_ms_p50"):
        if key in runs[0]:
            out[key] = statistics.median(r[key] for r in runs)
    out["latency_ms"] = {k: statistics.median(r["latency_ms"][k] for r in runs)
                         for k in ("p50", "p90", "p99")}
    out["runs"] = len(runs)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", required=True, help="CMake build directory")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per case (medians)")
    parser.add_argument("--painters", default=",".join(PAINTERS))
    parser.add_argument("--cases", default="", help="substring filter on case labels")
    parser.add_argument("--json", help="write all results as JSON here")
    args = parser.parse_args()
    if not (0 < args.seconds <= 600) or not (1 <= args.repeats <= 20):
        parser.error("--seconds must be in (0, 600] and --repeats 1..20")
    args.viewer = os.path.join(args.build_dir, "viewer", "shmframe-viewer")
    args.writer = os.path.join(args.build_dir, "tests", "viewer", "viewer_test_writer")
    for program in (args.viewer, args.writer):
        if not os.access(program, os.X_OK):
            parser.error(f"{program} is missing: build shmframe-viewer and viewer_test_writer")
    if not shutil.which("Xvfb"):
        parser.error("Xvfb is not installed (Debian package xvfb)")

    workdir = tempfile.mkdtemp(prefix="viewer-bench.")
    feed_dir = os.path.join(workdir, "feeds")
    os.mkdir(feed_dir, 0o700)
    xvfb, display = start_xvfb(workdir)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", SHMFRAME_DIR=feed_dir)
    env.pop("WAYLAND_DISPLAY", None)
    results = []
    try:
        for case in CASES:
            if args.cases and args.cases not in case[0]:
                continue
            for painter in args.painters.split(","):
                runs = []
                for _ in range(args.repeats):
                    try:
                        runs.append(run_case(args, env, xvfb, case, painter))
                    except RuntimeError as error:
                        print(f"{case[0]} / {painter}: {error}", file=sys.stderr)
                if runs:
                    result = median_of(runs)
                    results.append(result)
                    print(f"done: {case[0]} / {painter}: "
                          f"{result['viewer_cpu_ms_per_frame']:.2f} ms CPU/frame, "
                          f"p50 {result['latency_ms']['p50']:.2f} ms", file=sys.stderr)
    finally:
        stop(xvfb)
        shutil.rmtree(workdir, ignore_errors=True)

    print("| case | painter (path) | painted fps | viewer CPU/frame | viewer core % "
          "| Xvfb CPU/frame | publish→paint p50 / p90 / p99 | skipped | CPU YUV convert p50 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        painted_fps = r["painted_fps"]
        lat = r["latency_ms"]
        yuv = f"{r['cpu_yuv_conversion_ms_p50']:.2f} ms" if "cpu_yuv_conversion_ms_p50" in r else "—"
        print(f"| {r['case']} | {r['painter']} ({r['painted_via']}) | {painted_fps:.1f} "
              f"| {r['viewer_cpu_ms_per_frame']:.2f} ms | {r['viewer_core_percent']:.0f} % "
              f"| {r['xvfb_cpu_ms_per_frame']:.2f} ms "
              f"| {lat['p50']:.2f} / {lat['p90']:.2f} / {lat['p99']:.2f} ms "
              f"| {r['skipped']:.0f} of {r['received'] + r['skipped']:.0f} | {yuv} |")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
