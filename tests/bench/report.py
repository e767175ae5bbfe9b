#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turns the suite's raw records (one JSON line per scenario run) into the report:
a table on stdout, results.json, PNG plots, and optionally the generated part of
docs/benchmarks.md. Medians over runs, spread as min..max of the runs' p50, ratios
against the floors measured in the same run, and each DESIGN.md target met or missed.

Run by tests/bench/run.sh; see there for the options."""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

SIZES = [(1280, 720), (1920, 1080), (3840, 2160)]

# Every series, in table order: (name, group, label for plots and tables).
SERIES = [
    ("api-block", "latency", "shmframe API, blocking"),
    ("api-spin", "latency", "shmframe API, spin"),
    ("api-paced", "latency", "shmframe API, paced"),
    ("api-block-30fps", "latency", "shmframe API, blocking, at the pairs' 30 fps"),
    ("gst-shmframe", "gst", "shmframesink → shmframesrc"),
    ("gst-shm", "gst", "shmsink → shmsrc (stock)"),
    ("gst-tcp", "gst", "tcpserversink → tcpclientsrc"),
    ("gst-queue", "gst", "in-process queue (floor)"),
    ("gst-h264-shmframe", "decoder", "avdec_h264 → shmframesink → shmframesrc"),
    ("gst-h264-shm", "decoder", "avdec_h264 → shmsink → shmsrc (stock)"),
] + [
    (f"gst-readers-{n}-{t}", "gst-readers", f"{label}, {n} receiver{'s' if n > 1 else ''}")
    for n in (1, 2, 4, 8)
    for t, label in (("shmframe", "shmframesink → shmframesrc"), ("shm", "shmsink → shmsrc"))
] + [
    ("unix-socket", "latency", "Unix socket, whole frame"),
    ("floor-futex", "floor", "bare futex wake"),
] + [
    (f"floor-futex-{n}", "floor", f"bare futex wake, {n} waiters (one FUTEX_WAKE)")
    for n in (2, 4, 8)
] + [
    ("floor-eventfd", "floor", "bare eventfd wake"),
    ("floor-eventfd-epoll", "floor", "eventfd wake via epoll"),
    ("floor-pipe-epoll", "floor", "pipe wake via epoll (the library's channel)"),
    ("floor-spin", "floor", "bare spin on a shared word"),
    ("memcpy", "floor", "memcpy of one frame"),
    ("saturation", "saturation", "saturation (writer only stamps)"),
    ("fanout-1", "fanout", "fan-out, 1 reader"),
    ("fanout-2", "fanout", "fan-out, 2 readers"),
    ("fanout-4", "fanout", "fan-out, 4 readers"),
    ("fanout-8", "fanout", "fan-out, 8 readers"),
]
LABELS = {name: label for name, _, label in SERIES}
GROUPS = {name: group for name, group, _ in SERIES}
# Scenarios that need only the library: they must produce numbers.
LIBRARY_ONLY = {"api-block", "api-spin", "api-paced", "api-block-30fps", "unix-socket",
                "floor-futex", "floor-futex-2", "floor-futex-4", "floor-futex-8", "floor-eventfd",
                "floor-eventfd-epoll", "floor-pipe-epoll", "floor-spin", "memcpy", "saturation",
                "fanout-1", "fanout-2", "fanout-4", "fanout-8"}

BEGIN_MARK = "<!-- BEGIN GENERATED: tests/bench/run.sh --update-doc -->"
END_MARK = "<!-- END GENERATED -->"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def size_label(width, height):
    return f"{width}x{height}" if width else "-"


def fmt(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if abs(value) >= 10000:
        return f"{value / 1000:.1f} ms"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def load_records(path):
    records = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                print(f"report: {path}:{number}: not JSON ({error}); ignored", file=sys.stderr)
                continue
            if isinstance(record, dict) and "series" in record:
                records.append(record)
    return records


def group_records(records):
    """Runs of the same series, format, size together; keyed in table order."""
    groups = {}
    for record in records:
        key = (record["series"], record.get("format") or "", int(record.get("width") or 0),
               int(record.get("height") or 0))
        groups.setdefault(key, []).append(record)
    order = {name: index for index, (name, _, _) in enumerate(SERIES)}
    return dict(sorted(groups.items(),
                       key=lambda item: (order.get(item[0][0], 99), item[0][1] != "RGBA",
                                         item[0][1], item[0][2] * item[0][3])))


def summarize_group(key, runs):
    series, fmt_name, width, height = key
    measured = [r for r in runs if "skipped" not in r and r.get("latency_us", {}).get("count")]
    summary = {
        "series": series,
        "label": LABELS.get(series, series),
        "group": GROUPS.get(series, runs[0].get("group", "")),
        "transport": runs[0].get("transport", LABELS.get(series, series)),
        "format": fmt_name,
        "width": width,
        "height": height,
        "runs": len(runs),
        "measured_runs": len(measured),
        "readers": int(runs[0].get("readers") or 1),
    }
    skipped = sorted({r["skipped"] for r in runs if "skipped" in r})
    if skipped:
        summary["skipped"] = "; ".join(skipped)
    if not measured:
        return summary
    lat = [r["latency_us"] for r in measured]
    p50s = [l["p50"] for l in lat]
    p99s = [l["p99"] for l in lat]
    summary.update({
        "p50_us": median(p50s),
        "p90_us": median([l["p90"] for l in lat]),
        "p99_us": median(p99s),
        "p50_spread_us": [min(p50s), max(p50s)],
        "p99_spread_us": [min(p99s), max(p99s)],
        "frames_per_run": [l["count"] for l in lat],
        "frames_sent_per_run": [r.get("frames") for r in measured],
        "lost_total": sum(int(r.get("lost", 0) or 0) for r in measured),
        "fps_target": measured[0].get("fps_target"),
        "fps_achieved": median([r.get("fps_achieved") for r in measured]),
    })
    for field in ("writer_cpu_us", "reader_cpu_us", "process_cpu_us", "writer_minflt",
                  "reader_minflt", "writer_majflt", "reader_majflt", "reader_fps", "gb_per_s",
                  "sink_copied", "reader_copies", "reader_layout_copies", "bad_stamps",
                  "before_publish_p50_us", "after_publish_p50_us"):
        values = [r.get(field) for r in measured if isinstance(r.get(field), (int, float))
                  and r.get(field) >= 0]
        if values:
            summary[field] = median(values)
    calls = [r["publish_call_us"]["p50"] for r in measured if r.get("publish_call_us")]
    if calls:
        summary["publish_call_p50_us"] = median(calls)
    endings = sorted({r.get("ending") for r in measured if r.get("ending")} - {"complete"})
    if endings:
        summary["endings"] = endings
    # Pooled quantiles (equal weight per run) for the CDF.
    pooled = sorted(v for l in lat for v in l.get("quantiles", []))
    if pooled:
        summary["cdf_us"] = pooled[:: max(1, len(pooled) // 400)]
    if any(r.get("per_reader") for r in measured):
        per_reader = [pr for r in measured for pr in r.get("per_reader", [])]
        if per_reader:
            summary["reader_p50_worst_us"] = median(
                [max(pr["p50"] for pr in r["per_reader"]) for r in measured
                 if r.get("per_reader")])
            summary["reader_p99_worst_us"] = median(
                [max(pr["p99"] for pr in r["per_reader"]) for r in measured
                 if r.get("per_reader")])
    return summary


def find(summaries, series, width=0, height=0, fmt_name=None):
    for s in summaries:
        if s["series"] == series and s["width"] == width and s["height"] == height and \
                (fmt_name is None or s["format"] == fmt_name) and "p50_us" in s:
            return s
    return None


def find_skipped(summaries, series, width=0, height=0):
    """Why a scenario was skipped, if it was."""
    for s in summaries:
        if s["series"] == series and s["width"] == width and s["height"] == height and \
                "skipped" in s:
            return "skipped: " + s["skipped"]
    return None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


class Runs:
    """Per-run statistics, so that ratios pair measurements of the same run (taken
    minutes apart at most) instead of dividing medians of different moments."""

    def __init__(self, records):
        self.values = {}
        for r in records:
            if "skipped" in r or not r.get("latency_us", {}).get("count"):
                continue
            key = (r["series"], r.get("format") or "", int(r.get("width") or 0),
                   int(r.get("height") or 0))
            stats = dict(r["latency_us"])
            for field in ("reader_cpu_us", "writer_cpu_us", "sink_copied", "reader_copies"):
                if isinstance(r.get(field), (int, float)) and r[field] >= 0:
                    stats[field] = r[field]
            if "reader_cpu_us" in stats and "writer_cpu_us" in stats:
                stats["total_cpu_us"] = stats["reader_cpu_us"] + stats["writer_cpu_us"]
            self.values.setdefault(key, {})[r.get("run", 0)] = stats

    def get(self, series, width=0, height=0, fmt_name=None):
        if fmt_name is None:
            fmt_name = "RGBA" if width else ""
        return self.values.get((series, fmt_name, width, height), {})

    def best_floor(self, stat):
        """Per run: the lower of the bare futex and bare eventfd wake."""
        futex, eventfd = self.get("floor-futex"), self.get("floor-eventfd")
        result = {}
        for run in set(futex) | set(eventfd):
            values = [d[run][stat] for d in (futex, eventfd) if run in d]
            result[run] = {stat: min(values)}
        return result

    @staticmethod
    def paired(a, b, stat_a, stat_b=None):
        """Median over the runs both have of a[run][stat_a] / b[run][stat_b]."""
        stat_b = stat_b or stat_a
        ratios = [a[run][stat_a] / b[run][stat_b] for run in a
                  if run in b and stat_a in a[run] and stat_b in b[run] and b[run][stat_b]]
        return median(ratios)


def evaluate_gst_goals(runs, summaries, ratios, target):
    """The GStreamer pair against the library and the stock pair (issue 13's goals):
    latency and receiver CPU, decoders upstream, and several receivers of one sink."""
    sizes = [(w, h) for (w, h) in SIZES if runs.get("gst-shmframe", w, h)]
    # The pair against the API at the pair's own rate: on a VM the wake-up latency
    # depends on the idle gap between frames, so the 200 fps row is not comparable.
    for (w, h) in sizes:
        label = size_label(w, h)
        ours = runs.get("gst-shmframe", w, h)
        if runs.get("api-block-30fps", w, h):
            ratios[f"gst-shmframe p50 / api-block-30fps p50 @ {label} (both at 30 fps)"] = \
                runs.paired(ours, runs.get("api-block-30fps", w, h), "p50")
        if runs.get("api-block", w, h):
            name = f"gst-shmframe p50 / api-block p50 @ {label} (pair at 30 fps, API at 200 fps)"
            ratios[name] = runs.paired(ours, runs.get("api-block", w, h), "p50")
        # Where the pair's time goes: the sender's part (its stamp probe to the publish)
        # and the rest (the wake-up and the receiver's path to its probe).
        split = find(summaries, "gst-shmframe", w, h, "RGBA")
        if split and split.get("before_publish_p50_us") is not None:
            before, after = split["before_publish_p50_us"], split["after_publish_p50_us"]
            ratios[f"gst-shmframe p50 share after the publish (wake-up + receiver; sender "
                   f"{before:.1f} µs, after {after:.1f} µs) @ {label}"] = \
                after / (before + after) if before + after > 0 else None
    if sizes:
        w, h = sizes[-1]
        label = size_label(w, h)
        ours, api, stock = (runs.get("gst-shmframe", w, h), runs.get("api-block-30fps", w, h),
                            runs.get("gst-shm", w, h))
        name = f"GStreamer pair p50 / C++ API blocking p50 ({label}, both at 30 fps)"
        r = runs.paired(ours, api, "p50")
        if r is not None:
            s_ours, s_api = find(summaries, "gst-shmframe", w, h, "RGBA"), \
                find(summaries, "api-block-30fps", w, h, "RGBA")
            target(name, "≤ 1.3x", r, r <= 1.3,
                   f"{r:.2f}x (medians {s_ours['p50_us']:.1f} µs vs {s_api['p50_us']:.1f} µs)")
        else:
            other = runs.paired(ours, runs.get("api-block", w, h), "p50")
            skipped = find_skipped(summaries, "api-block-30fps", w, h)
            target(name, "≤ 1.3x", None, False,
                   "not measured: no API blocking row at 30 fps"
                   + (f" ({skipped})" if skipped else "")
                   + (f"; against the API at 200 fps: {other:.2f}x (not comparable)"
                      if other is not None else ""))
        r = runs.paired(ours, stock, "p50")
        if r is not None:
            target(f"GStreamer pair p50 / stock pair p50 ({label})", "≤ 0.6x", r, r <= 0.6,
                   f"{r:.2f}x")
        r = runs.paired(ours, stock, "reader_cpu_us")
        if r is not None:
            target(f"shmframesrc receiver CPU / shmsrc receiver CPU ({label})", "≤ 0.5x", r,
                   r <= 0.5, f"{r:.2f}x")
    for (w, h) in SIZES:
        ours, stock = runs.get("gst-h264-shmframe", w, h, "I420"), \
            runs.get("gst-h264-shm", w, h, "I420")
        label = size_label(w, h)
        r = runs.paired(ours, stock, "total_cpu_us")
        ratios[f"H.264 decode → pair: shmframe / stock CPU, sender + receiver @ {label}"] = r
        s_ours = find(summaries, "gst-h264-shmframe", w, h, "I420")
        if s_ours and s_ours.get("sink_copied") is not None:
            copied = s_ours["sink_copied"]
            target(f"avdec_h264 → shmframesink copies ({label})", "0", copied, copied == 0,
                   f"frames copied by the sink (median of runs): {copied:g}")
        if s_ours and s_ours.get("reader_layout_copies") is not None:
            copied = s_ours["reader_layout_copies"]
            target(f"avdec_h264 → shmframesrc layout copies ({label})", "0", copied,
                   copied == 0,
                   f"frames the receiver copied into GStreamer's default layout (median of "
                   f"runs): {copied:g}")
        if r is not None and (w, h) == (3840, 2160):
            target("4K H.264 decode → shmframe pair CPU / stock pair CPU", "< 1", r, r < 1,
                   f"{r:.2f}x (sender + receiver CPU per frame)")
    for transport in ("shmframe", "shm"):
        one = runs.get(f"gst-readers-1-{transport}", 1920, 1080)
        eight = runs.get(f"gst-readers-8-{transport}", 1920, 1080)
        r = runs.paired(eight, one, "writer_cpu_us")
        ratios[f"{transport} sink CPU per frame, 8 receivers / 1 @ 1920x1080"] = r
        if transport == "shmframe" and r is not None:
            target("shmframesink CPU per frame, 8 receivers / 1 receiver", "≤ 2x", r, r <= 2.0,
                   f"{r:.2f}x")


def evaluate_wake_goals(runs, summaries, ratios, target):
    """The wake-up costs of issue 13: the writer's CPU per publish with 8 sleeping
    readers against one, one against a bare FUTEX_WAKE, and the reader's CPU per frame
    against a bare FUTEX_WAIT; next to them what the kernel itself charges for waking
    N sleepers (one FUTEX_WAKE of all, floor-futex-N)."""
    futex = {1: runs.get("floor-futex")}
    futex.update({n: runs.get(f"floor-futex-{n}") for n in (2, 4, 8)})
    for n in (2, 4, 8):
        if futex[n] and futex[1]:
            ratios[f"bare futex waker CPU per wake, {n} waiters / 1"] = runs.paired(
                futex[n], futex[1], "writer_cpu_us")
    where = next(((w, h) for (w, h) in SIZES if runs.get("fanout-1", w, h)), None)
    if where is None:
        return
    w, h = where
    label = size_label(w, h)
    fanout = {n: runs.get(f"fanout-{n}", w, h) for n in (1, 2, 4, 8)}
    for n in (1, 2, 4, 8):
        if fanout[n] and futex[n]:
            ratios[f"fan-out writer CPU per publish / bare futex waker's, {n} sleeper"
                   f"{'s' if n > 1 else ''} @ {label}"] = runs.paired(
                fanout[n], futex[n], "writer_cpu_us")

    def cpu(series, field):
        found = find(summaries, series, *((w, h) if series.startswith("fanout") else (0, 0)))
        return found.get(field) if found else None

    r = runs.paired(fanout[8], fanout[1], "writer_cpu_us")
    if r is not None:
        kernel = runs.paired(futex[8], futex[1], "writer_cpu_us")
        target(f"Writer CPU per publish, 8 sleeping readers / 1 (C++ API, {label})", "≤ 2x", r,
               r <= 2.0,
               f"{r:.2f}x ({fmt(cpu('fanout-8', 'writer_cpu_us'))} vs "
               f"{fmt(cpu('fanout-1', 'writer_cpu_us'))} µs, medians); the kernel's own, one "
               f"FUTEX_WAKE of 8 sleepers / 1: "
               + (f"{kernel:.2f}x ({fmt(cpu('floor-futex-8', 'writer_cpu_us'))} vs "
                  f"{fmt(cpu('floor-futex', 'writer_cpu_us'))} µs)" if kernel is not None
                  else "not measured"))
    api = runs.get("api-block", 1920, 1080)
    for field, name, who in (
            ("writer_cpu_us", "Writer CPU per publish, 1 sleeping reader / bare futex waker",
             "waker"),
            ("reader_cpu_us", "Reader CPU per frame / bare futex waiter", "waiter")):
        r = runs.paired(fanout[1], futex[1], field)
        if r is None:
            continue
        detail = (f"{r:.2f}x (fan-out, 1 reader, {label}: {fmt(cpu('fanout-1', field))} µs; "
                  f"bare futex {who}: {fmt(cpu('floor-futex', field))} µs, medians)")
        other = runs.paired(api, futex[1], field)
        if other is not None:
            detail += f"; API blocking at 1920x1080: {other:.2f}x"
        target(name, "≤ 1.5x", r, r <= 1.5, detail)


def evaluate(summaries, records, quick):
    """Ratios against the floors (paired by run) and the DESIGN.md targets."""
    runs = Runs(records)
    ratios = {}
    targets = []

    def target(name, goal, value, met, detail):
        targets.append({"target": name, "goal": goal, "value": value,
                        "met": bool(met) if value is not None else False, "detail": detail})

    floor50, floor99 = runs.best_floor("p50"), runs.best_floor("p99")
    pipe = runs.get("floor-pipe-epoll")
    efd_epoll = runs.get("floor-eventfd-epoll")
    sizes = [(w, h) for (w, h) in SIZES if runs.get("api-block", w, h)]
    p50_ratios, p99_ratios = {}, {}
    for (w, h) in sizes:
        block = runs.get("api-block", w, h)
        label = size_label(w, h)
        p50_ratios[label] = runs.paired(block, floor50, "p50")
        p99_ratios[label] = runs.paired(block, floor99, "p99")
        ratios[f"api-block p50 / best bare wake p50 @ {label}"] = p50_ratios[label]
        ratios[f"api-block p99 / best bare wake p99 @ {label}"] = p99_ratios[label]
        ratios[f"api-block p50 / eventfd+epoll wake p50 @ {label}"] = runs.paired(
            block, efd_epoll, "p50")
        ratios[f"api-block p50 / pipe+epoll wake p50 @ {label}"] = runs.paired(
            block, pipe, "p50")
    floors = [find(summaries, f) for f in ("floor-futex", "floor-eventfd")]
    floor_text = " / ".join(f"{LABELS[f['series']]} p50 {f['p50_us']:.1f} µs, p99 "
                            f"{f['p99_us']:.1f} µs" for f in floors if f)
    if p50_ratios and all(v is not None for v in p50_ratios.values()):
        worst = max(p50_ratios, key=p50_ratios.get)
        target("Blocking p50 vs bare futex/eventfd wake", "≤ 1.5x", p50_ratios[worst],
               p50_ratios[worst] <= 1.5,
               ", ".join(f"{k}: {v:.2f}x" for k, v in p50_ratios.items()) + f" ({floor_text})")
    if p99_ratios and all(v is not None for v in p99_ratios.values()):
        worst = max(p99_ratios, key=p99_ratios.get)
        target("Blocking p99 vs bare futex/eventfd wake", "≤ 3x", p99_ratios[worst],
               p99_ratios[worst] <= 3.0,
               ", ".join(f"{k}: {v:.2f}x" for k, v in p99_ratios.items()))
    for series in ("api-block", "api-spin", "gst-shmframe", "gst-shm"):
        flat = runs.paired(runs.get(series, 3840, 2160), runs.get(series, 1280, 720), "p50")
        if flat is None:
            continue
        ratios[f"{series} p50 4K / 720p"] = flat
        if series == "api-block":
            big, small = find(summaries, series, 3840, 2160, "RGBA"), \
                find(summaries, series, 1280, 720, "RGBA")
            target("Flat in frame size (blocking p50, 4K / 720p)", "≤ 1.2", flat, flat <= 1.2,
                   f"{flat:.2f} (medians {big['p50_us']:.1f} µs vs {small['p50_us']:.1f} µs)")
    spins = [s for s in (find(summaries, "api-spin", w, h, "RGBA") for (w, h) in SIZES) if s]
    spin_floor = runs.get("floor-spin")
    for (w, h) in SIZES:
        spin_runs = runs.get("api-spin", w, h)
        if spin_runs and spin_floor:
            ratios[f"api-spin p50 / bare spin p50 @ {size_label(w, h)}"] = runs.paired(
                spin_runs, spin_floor, "p50")
    spin_floor_ratios = {size_label(w, h): ratios.get(f"api-spin p50 / bare spin p50 @ "
                                                       f"{size_label(w, h)}") for (w, h) in SIZES}
    spin_floor_ratios = {k: v for k, v in spin_floor_ratios.items() if v is not None}
    if spin_floor_ratios:
        worst = max(spin_floor_ratios, key=spin_floor_ratios.get)
        target("Spin mode p50 vs bare spin on a shared word", "≤ 3x", spin_floor_ratios[worst],
               spin_floor_ratios[worst] <= 3.0,
               ", ".join(f"{k}: {v:.2f}x" for k, v in spin_floor_ratios.items()))
    # Paced mode next to blocking and spin, in the same runs: latency and reader CPU.
    for (w, h) in SIZES:
        paced = runs.get("api-paced", w, h)
        label = size_label(w, h)
        for other in ("api-spin", "api-block"):
            other_runs = runs.get(other, w, h)
            if paced and other_runs:
                ratios[f"api-paced p50 / {other} p50 @ {label}"] = runs.paired(
                    paced, other_runs, "p50")
                ratios[f"api-paced reader CPU / {other} reader CPU @ {label}"] = runs.paired(
                    paced, other_runs, "reader_cpu_us")
    if spins:
        worst = max(s["p50_us"] for s in spins)
        floor_spin = find(summaries, "floor-spin")
        target("Spin mode p50", "< 2 µs", worst, worst < 2.0,
               ", ".join(f"{size_label(s['width'], s['height'])}: {s['p50_us']:.1f} µs"
                         for s in spins) +
               (f" (bare spin on a shared word, same run: {floor_spin['p50_us']:.1f} µs)"
                if floor_spin else ""))
    api = [s for s in (find(summaries, "api-block", w, h, "RGBA") for (w, h) in SIZES) if s]
    saturation = [s for s in (find(summaries, "saturation", w, h, "RGBA") for (w, h) in SIZES)
                  if s]
    if api:
        for field, name in (("writer_cpu_us", "Writer CPU per publish"),
                            ("reader_cpu_us", "Reader CPU per frame")):
            worst = max(s.get(field, 0) for s in api)
            detail = "blocking reader: " + ", ".join(
                f"{size_label(s['width'], s['height'])}: {s.get(field, 0):.1f}" for s in api) + \
                " µs"
            if saturation:
                detail += "; without wake-ups (saturation): " + ", ".join(
                    f"{size_label(s['width'], s['height'])}: {s.get(field, 0):.1f}"
                    for s in saturation) + " µs"
            target(name, "a few µs, flat in size", worst, worst <= 5.0, detail)
        faults = max(max(s.get("writer_minflt", 0), s.get("reader_minflt", 0),
                         s.get("writer_majflt", 0), s.get("reader_majflt", 0))
                     for s in api + spins)
        target("Page faults per frame once running (C++ API, writer and reader)", "0", faults,
               faults == 0, f"largest median minor+major faults per frame: {faults:g}")
    for (w, h) in SIZES:
        ours, queue = runs.get("gst-shmframe", w, h), runs.get("gst-queue", w, h)
        stock, tcp = runs.get("gst-shm", w, h), runs.get("gst-tcp", w, h)
        label = size_label(w, h)
        if ours and queue:
            ratios[f"gst-shmframe p50 / in-process queue p50 @ {label}"] = runs.paired(
                ours, queue, "p50")
        if ours and stock:
            ratios[f"stock shm p50 / gst-shmframe p50 @ {label}"] = runs.paired(
                stock, ours, "p50")
            ratios[f"shmframesrc / shmsrc receiver CPU @ {label}"] = runs.paired(
                ours, stock, "reader_cpu_us")
        if tcp and ours:
            ratios[f"tcp p50 / gst-shmframe p50 @ {label}"] = runs.paired(tcp, ours, "p50")
        tcp_summary = find(summaries, "gst-tcp", w, h, "RGBA")
        if tcp_summary:
            ratios[f"tcp achieved fps @ {label}"] = tcp_summary.get("fps_achieved")
    where = (3840, 2160) if runs.get("gst-shmframe", 3840, 2160) else \
        (1280, 720) if runs.get("gst-shmframe", 1280, 720) else None
    if where:
        w, h = where
        label = size_label(w, h)
        ours, queue, stock = (runs.get("gst-shmframe", w, h), runs.get("gst-queue", w, h),
                              runs.get("gst-shm", w, h))
        s_ours, s_queue, s_stock = (find(summaries, "gst-shmframe", w, h, "RGBA"),
                                    find(summaries, "gst-queue", w, h, "RGBA"),
                                    find(summaries, "gst-shm", w, h, "RGBA"))
        if queue:
            r = runs.paired(ours, queue, "p50")
            target(f"GStreamer pair p50 vs in-process queue ({label})", "≤ 1.2x", r,
                   r is not None and r <= 1.2,
                   f"{r:.2f}x (medians {s_ours['p50_us']:.1f} µs vs {s_queue['p50_us']:.1f} µs)")
        if stock:
            r = runs.paired(stock, ours, "p50")
            target(f"Stock shmsink/shmsrc p50 / GStreamer pair p50 ({label})", "≥ 2.5x", r,
                   r is not None and r >= 2.5,
                   f"{r:.2f}x (medians {s_stock['p50_us']:.1f} µs vs {s_ours['p50_us']:.1f} µs)")
            r = runs.paired(ours, stock, "reader_cpu_us")
            if r is not None:
                target(f"shmframesrc receiver CPU / shmsrc receiver CPU ({label})", "≤ 1/3", r,
                       r <= 1 / 3, f"{r:.2f} ({s_ours.get('reader_cpu_us', 0):.0f} µs vs "
                                   f"{s_stock.get('reader_cpu_us', 0):.0f} µs per frame, "
                                   f"whole receiver process)")
    evaluate_gst_goals(runs, summaries, ratios, target)
    evaluate_wake_goals(runs, summaries, ratios, target)
    copied = [s.get("sink_copied") for s in summaries
              if s["series"] == "gst-shmframe" and s.get("sink_copied") is not None]
    if copied:
        total = max(copied)
        target("Zero pixel copies when upstream uses the sink's pool (shmframesink stats)",
               "0 copied", total, total == 0, f"frames copied by the sink: {total:g}")
    return ratios, targets


def machine_info(meta):
    info = {"nproc": os.cpu_count(), "kernel": platform.release(),
            "machine": platform.machine()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/loadavg", encoding="utf-8") as stream:
            info["loadavg_end"] = " ".join(stream.read().split()[:3])
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as stream:
            info["memory"] = stream.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    info.update(meta)
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        info["commit"] = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True,
                                        timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def load_micro(path):
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, json.JSONDecodeError):
        return []
    rows = []
    for bench in data.get("benchmarks", []):
        rows.append({"name": bench.get("name"), "label": bench.get("label", ""),
                     "real_ns": bench.get("real_time") * (1000 if bench.get("time_unit") == "us"
                                                          else 1),
                     "cpu_ns": bench.get("cpu_time") * (1000 if bench.get("time_unit") == "us"
                                                        else 1),
                     "error": bench.get("error_message")})
    return rows


# --- text output ----------------------------------------------------------------------

TABLE_HEADER = ["scenario", "format / size", "p50 µs", "p90 µs", "p99 µs", "p50 spread",
                "frames×runs", "lost", "fps", "writer CPU µs", "reader CPU µs",
                "faults/frame w/r"]


def table_rows(summaries):
    rows = []
    for s in summaries:
        where = f"{s['format']} {size_label(s['width'], s['height'])}".strip() \
            if s["width"] else "-"
        if "p50_us" not in s:
            rows.append([s["label"], where, "skipped: " + s.get("skipped", "no data")] +
                        [""] * (len(TABLE_HEADER) - 3))
            continue
        spread = s["p50_spread_us"]
        frames = s["frames_per_run"]
        if s["series"].startswith("fanout") or s.get("readers", 1) > 1:
            # Samples of all readers are pooled: show frames per reader.
            readers = int(s["series"].split("-")[1]) if s["series"].startswith("fanout") \
                else s["readers"]
            frames = [f // readers for f in frames]
        frames_text = f"{min(frames)}×{len(frames)}" if min(frames) == max(frames) else \
            f"{min(frames)}–{max(frames)}×{len(frames)}"
        fps = s.get("fps_achieved")
        fps_text = "–" if not fps else f"{fps:.0f}"
        if s.get("fps_target"):
            fps_text += f"/{s['fps_target']}"
        if s["series"] == "saturation":
            fps_text = f"{fps:.0f} pub, {s.get('reader_fps', 0):.0f} read"
        writer_cpu = s.get("writer_cpu_us")
        reader_cpu = s.get("reader_cpu_us", s.get("process_cpu_us"))
        faults = "–"
        if "writer_minflt" in s or "reader_minflt" in s:
            faults = f"{s.get('writer_minflt', 0):.2g}/{s.get('reader_minflt', 0):.2g}"
        rows.append([s["label"], where, fmt(s["p50_us"]), fmt(s["p90_us"]), fmt(s["p99_us"]),
                     f"{fmt(spread[0])}–{fmt(spread[1])}", frames_text,
                     "–" if s["series"] == "saturation" else str(s.get("lost_total", 0)),
                     fps_text, fmt(writer_cpu), fmt(reader_cpu),
                     faults])
    return rows


def print_table(summaries, ratios, targets):
    rows = [TABLE_HEADER] + table_rows(summaries)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(TABLE_HEADER))]
    for index, row in enumerate(rows):
        print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))
    print()
    print("Ratios (same run):")
    for name, value in ratios.items():
        print(f"  {name}: {'–' if value is None else f'{value:.2f}'}")
    print()
    print("DESIGN.md targets:")
    for t in targets:
        verdict = "met   " if t["met"] else "no data" if t["value"] is None else "MISSED"
        print(f"  [{verdict}] {t['target']}: goal {t['goal']}; {t['detail']}")


def markdown(summaries, ratios, targets, info, micro, args):
    lines = []
    lines.append(f"Run of `{args.command}` on {info.get('started', '?')}"
                 f" (commit {info.get('commit') or '?'}), {args.runs} run(s) per scenario,"
                 f" {args.elapsed} s in all.")
    lines.append("")
    lines.append(f"Machine: {info.get('nproc')} × {info.get('cpu', '?')}, kernel "
                 f"{info.get('kernel')}, {info.get('memory', '?')} RAM; load average "
                 f"{info.get('loadavg_start', '?')} at the start, "
                 f"{info.get('loadavg_end', '?')} at the end.")
    lines.append("")
    lines.append("| " + " | ".join(TABLE_HEADER) + " |")
    lines.append("|" + "|".join("---" for _ in TABLE_HEADER) + "|")
    for row in table_rows(summaries):
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    lines.append("")
    lines.append("**Ratios (same run)**")
    lines.append("")
    for name, value in ratios.items():
        lines.append(f"- {name}: {'–' if value is None else f'{value:.2f}'}")
    lines.append("")
    lines.append("**DESIGN.md targets**")
    lines.append("")
    lines.append("| target | goal | measured | verdict |")
    lines.append("|---|---|---|---|")
    for t in targets:
        verdict = "met" if t["met"] else "no data" if t["value"] is None else "**missed**"
        lines.append(f"| {t['target']} | {t['goal']} | {t['detail']} | {verdict} |")
    if micro:
        lines.append("")
        lines.append("**Micro-benchmarks** (Google Benchmark, one process, no wake-ups)")
        lines.append("")
        lines.append("| benchmark | frame | wall ns | CPU ns |")
        lines.append("|---|---|---|---|")
        for m in micro:
            lines.append(f"| {m['name'].split('/')[0]} | {m['label']} | {m['real_ns']:.0f} | "
                         f"{m['cpu_ns']:.0f} |")
    return "\n".join(lines) + "\n"


def update_doc(path, text):
    try:
        with open(path, encoding="utf-8") as stream:
            doc = stream.read()
    except OSError as error:
        print(f"report: cannot read {path}: {error}", file=sys.stderr)
        return False
    begin = doc.find(BEGIN_MARK)
    end = doc.find(END_MARK)
    if begin < 0 or end < begin:
        print(f"report: {path} has no generated section ({BEGIN_MARK} ... {END_MARK})",
              file=sys.stderr)
        return False
    doc = doc[:begin + len(BEGIN_MARK)] + "\n" + text + doc[end:]
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(doc)
    return True


# --- plots ---------------------------------------------------------------------------

PLOT_SERIES = ["api-block", "api-spin", "api-paced", "gst-shmframe", "gst-shm", "gst-tcp",
               "gst-queue", "unix-socket", "memcpy"]


def plot(summaries, directory):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("report: matplotlib not available: no plots", file=sys.stderr)
        return []
    written = []
    styles = {"api-block": ("C0", "o"), "api-spin": ("C1", "s"), "api-paced": ("C8", "h"),
              "gst-shmframe": ("C2", "^"),
              "gst-shm": ("C3", "v"), "gst-tcp": ("C4", "D"), "gst-queue": ("C5", "x"),
              "unix-socket": ("C6", "P"), "memcpy": ("C7", "*")}

    # Latency against frame size, p50 and p99, one line per transport.
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    for ax, key, title in ((axes[0], "p50_us", "p50"), (axes[1], "p99_us", "p99")):
        for series in PLOT_SERIES:
            points = [s for s in summaries if s["series"] == series and s["format"] == "RGBA"
                      and key in s]
            if not points:
                continue
            points.sort(key=lambda s: s["width"] * s["height"])
            xs = [s["width"] * s["height"] * 4 / 1e6 for s in points]
            ys = [s[key] for s in points]
            color, marker = styles[series]
            if key == "p50_us":
                low = [y - s["p50_spread_us"][0] for y, s in zip(ys, points)]
                high = [s["p50_spread_us"][1] - y for y, s in zip(ys, points)]
                ax.errorbar(xs, ys, yerr=[low, high], color=color, marker=marker,
                            capsize=3, label=LABELS[series])
            else:
                ax.plot(xs, ys, color=color, marker=marker, label=LABELS[series])
        for floor, style in (("floor-futex", ":"), ("floor-eventfd", "--")):
            f = find(summaries, floor)
            if f:
                ax.axhline(f[key], color="grey", linestyle=style, linewidth=1,
                           label=LABELS[floor])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("frame size, MB (RGBA 720p, 1080p, 4K)")
        ax.set_title(f"publish → first pixel read, {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("latency, µs (log)")
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    path = os.path.join(directory, "latency_vs_size.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    written.append(path)

    # CDF at the largest size measured.
    measured_sizes = sorted({(s["width"], s["height"]) for s in summaries
                             if s["width"] and "cdf_us" in s}, key=lambda wh: wh[0] * wh[1])
    if measured_sizes:
        w, h = measured_sizes[-1]
        fig, ax = plt.subplots(figsize=(8, 4.6))
        for series in PLOT_SERIES:
            s = find(summaries, series, w, h, "RGBA")
            if not s or "cdf_us" not in s or series == "memcpy":
                continue
            values = s["cdf_us"]
            ys = [(i + 1) / len(values) for i in range(len(values))]
            color, _ = styles[series]
            ax.step(values, ys, where="post", color=color, label=LABELS[series])
        for floor, style in (("floor-futex", ":"), ("floor-eventfd", "--")):
            f = find(summaries, floor)
            if f and "cdf_us" in f:
                values = f["cdf_us"]
                ax.step(values, [(i + 1) / len(values) for i in range(len(values))],
                        where="post", color="grey", linestyle=style, label=LABELS[floor])
        ax.set_xscale("log")
        ax.set_xlabel("latency, µs (log)")
        ax.set_ylabel("fraction of frames")
        ax.set_title(f"latency distribution at {w}x{h} RGBA (all runs pooled)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = os.path.join(directory, "latency_cdf_4k.png" if (w, h) == (3840, 2160)
                            else f"latency_cdf_{w}x{h}.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)

    # Fan-out: writer CPU per publish and reader latency against the number of readers.
    fan = sorted([s for s in summaries if s["series"].startswith("fanout") and "p50_us" in s],
                 key=lambda s: int(s["series"].split("-")[1]))
    if fan:
        readers = [int(s["series"].split("-")[1]) for s in fan]
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
        left.plot(readers, [s.get("writer_cpu_us", 0) for s in fan], "o-", color="C0",
                  label="writer CPU per publish")
        left.plot(readers, [s.get("publish_call_p50_us", 0) for s in fan], "s--", color="C1",
                  label="publish() wall time, p50")
        floors = [(n, find(summaries, "floor-futex" if n == 1 else f"floor-futex-{n}"))
                  for n in (1, 2, 4, 8)]
        floors = [(n, f["writer_cpu_us"]) for n, f in floors if f and "writer_cpu_us" in f]
        if floors:
            left.plot([n for n, _ in floors], [v for _, v in floors], "^:", color="grey",
                      label="bare futex waker CPU, one FUTEX_WAKE of N")
        left.set_xlabel("readers")
        left.set_ylabel("µs")
        left.set_xscale("log", base=2)
        left.set_xticks(readers, [str(r) for r in readers])
        left.set_title("writer cost per frame")
        left.grid(True, alpha=0.3)
        left.legend(fontsize=8)
        right.plot(readers, [s["p50_us"] for s in fan], "o-", color="C2", label="p50, all readers")
        right.plot(readers, [s["p99_us"] for s in fan], "v-", color="C3", label="p99, all readers")
        if all("reader_p50_worst_us" in s for s in fan):
            right.plot(readers, [s["reader_p50_worst_us"] for s in fan], "o:", color="C2",
                       label="p50, slowest reader")
        right.set_xlabel("readers")
        right.set_ylabel("latency, µs")
        right.set_xscale("log", base=2)
        right.set_yscale("log")
        right.set_xticks(readers, [str(r) for r in readers])
        right.set_title(f"each reader's latency ({fan[0]['width']}x{fan[0]['height']}, blocking)")
        right.grid(True, which="both", alpha=0.3)
        right.legend(fontsize=8)
        fig.tight_layout()
        path = os.path.join(directory, "fanout.png")
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def check(summaries, quick):
    """Every scenario present; those that need only the library measured."""
    problems = []
    present = {s["series"] for s in summaries}
    for name, _, _ in SERIES:
        if name not in present:
            problems.append(f"scenario {name} is missing from the results")
    for s in summaries:
        if "p50_us" not in s:
            if s["series"] in LIBRARY_ONLY:
                problems.append(f"{s['series']} {size_label(s['width'], s['height'])} did not "
                                f"run: {s.get('skipped', 'no data')}")
            else:
                print(f"report: note: {s['series']} {size_label(s['width'], s['height'])} "
                      f"skipped: {s.get('skipped', 'no data')}", file=sys.stderr)
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--plots", required=True)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--elapsed", type=int, default=0)
    parser.add_argument("--command", default="tests/bench/run.sh")
    parser.add_argument("--meta")
    parser.add_argument("--micro")
    parser.add_argument("--gst-check")
    parser.add_argument("--update-doc")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.plots, exist_ok=True)
    records = load_records(args.records)
    meta = {}
    if args.meta and os.path.exists(args.meta):
        try:
            with open(args.meta, encoding="utf-8") as stream:
                meta = json.load(stream).get("meta", {})
        except (OSError, json.JSONDecodeError):
            meta = {}
    info = machine_info(meta)
    if args.gst_check and os.path.exists(args.gst_check):
        with open(args.gst_check, encoding="utf-8") as stream:
            try:
                info["gstreamer"] = json.load(stream).get("gstreamer")
            except json.JSONDecodeError:
                pass
    summaries = [summarize_group(key, runs) for key, runs in group_records(records).items()]
    ratios, targets = evaluate(summaries, records, args.quick)
    micro = load_micro(args.micro)

    print_table(summaries, ratios, targets)
    plots = plot(summaries, args.plots)
    results = {
        "command": args.command,
        "quick": args.quick,
        "runs": args.runs,
        "elapsed_s": args.elapsed,
        "machine": info,
        "scenarios": summaries,
        "ratios": ratios,
        "targets": targets,
        "micro": micro,
        "plots": [os.path.basename(p) for p in plots],
        "records": records,
    }
    results_path = os.path.join(args.out, "results.json")
    with open(results_path, "w", encoding="utf-8") as stream:
        json.dump(results, stream, indent=1, ensure_ascii=False)
    print()
    print(f"results: {results_path}")
    for path in plots:
        print(f"plot:    {path}")
    text = markdown(summaries, ratios, targets, info, micro, args)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as stream:
        stream.write(text)
    if args.update_doc:
        if update_doc(args.update_doc, text):
            print(f"updated: {args.update_doc}")
    if args.check:
        problems = check(summaries, args.quick)
        if problems:
            for problem in problems:
                print(f"check: {problem}", file=sys.stderr)
            return 1
        print("check: every scenario reported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
