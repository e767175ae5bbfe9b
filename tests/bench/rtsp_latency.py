#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Publish-to-display latency of `shmframe serve` + rtspsrc, and the server's CPU per
client, to compare with tests/bench/web_latency.mjs. Reported, never asserted.

    SHMFRAME_CLI=build/tools/shmframe GST_PLUGIN_PATH=build/plugins \
        python3 tests/bench/rtsp_latency.py [WxH ...]

The publish time does not travel over RTSP; the sender's RTCP sender reports map
each RTP timestamp to its wall clock, and the sender's timestamps are the frames'
publish times (shmframesrc timestamp-mode publish-time). rtspsrc with
add-reference-timestamp-meta=true turns that into a timestamp/x-ntp meta per
frame; "displayed" is when a synchronised fakesink renders the decoded frame.
Both ends are on this host, so both wall clocks are the same clock.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

NTP_UNIX_OFFSET_NS = 2208988800 * 1_000_000_000
SECONDS = float(os.environ.get("SECONDS_PER_RUN", "15"))
CLIENTS = [1, 4]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().split(") ")[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * p // 100)]


class Client:
    def __init__(self, url):
        self.latencies = []
        self.pipeline = Gst.parse_launch(
            f"rtspsrc location={url} latency=0 add-reference-timestamp-meta=true "
            "! rtph264depay ! avdec_h264 ! fakesink name=sink sync=true signal-handoffs=true")
        self.ntp_caps = Gst.Caps.from_string("timestamp/x-ntp")
        self.pipeline.get_by_name("sink").connect("handoff", self.on_frame)
        self.pipeline.set_state(Gst.State.PLAYING)

    def on_frame(self, _sink, buffer, _pad):
        meta = buffer.get_reference_timestamp_meta(self.ntp_caps)
        if meta:
            now_ns = time.clock_gettime_ns(time.CLOCK_REALTIME)
            self.latencies.append((now_ns + NTP_UNIX_OFFSET_NS - meta.timestamp) / 1e6)

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


def main():
    Gst.init(None)
    cli = os.environ["SHMFRAME_CLI"]
    sizes = sys.argv[1:] or ["1280x720", "1920x1080"]
    feed_dir = tempfile.mkdtemp(prefix="shmframe-rtsp-bench-")
    env = dict(os.environ, SHMFRAME_DIR=feed_dir)
    loop = GLib.MainLoop()
    context = loop.get_context()

    def run_for(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            context.iteration(False)
            time.sleep(0.005)

    rows = []
    for size in sizes:
        writer = subprocess.Popen([cli, "publish", "cam", "--pattern", "moving", "--size", size,
                                   "--fps", "30", "--quiet"], env=env)
        while not os.path.exists(os.path.join(feed_dir, "cam.sock")):
            time.sleep(0.1)
        server = subprocess.Popen([cli, "serve", "--port", "0", "cam"], env=env,
                                  stdout=subprocess.PIPE, text=True)
        url = None
        while url is None:
            match = re.match(r"serving (rtsp://\S+)", server.stdout.readline())
            url = match and match.group(1)
        time.sleep(2)
        idle_start = cpu_seconds(server.pid)
        time.sleep(5)
        idle = (cpu_seconds(server.pid) - idle_start) / 5
        clients = []
        for count in CLIENTS:
            while len(clients) < count:
                clients.append(Client(url))
            run_for(5)
            for client in clients:
                client.latencies.clear()
            start = cpu_seconds(server.pid)
            run_for(SECONDS)
            cpu = (cpu_seconds(server.pid) - start) / SECONDS
            lat = clients[0].latencies
            row = (size, count, len(lat), percentile(lat, 50) if lat else float("nan"),
                   percentile(lat, 95) if lat else float("nan"), cpu * 100, (cpu - idle) * 100 / count)
            print(row, flush=True)
            rows.append(row)
        for client in clients:
            client.stop()
        server.terminate()
        writer.terminate()
        server.wait()
        writer.wait()
    print("| size | clients | frames seen | p50 ms | p95 ms | server CPU % | per client % |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size, count, n, p50, p95, cpu, per in rows:
        print(f"| {size} | {count} | {n} | {p50:.1f} | {p95:.1f} | {cpu:.1f} | {per:.1f} |")


if __name__ == "__main__":
    main()
