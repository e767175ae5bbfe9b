// SPDX-License-Identifier: LGPL-2.1-or-later
// Publish-to-display latency of `shmframe web` in headless chromium, and the
// server's CPU per viewer. Reported, never asserted (docs/benchmarks.md).
//   SHMFRAME_CLI=build/tools/shmframe GST_PLUGIN_PATH=build/plugins \
//     node tests/bench/web_latency.mjs [WxH ...]
// Needs tests/web/node_modules (npm ci there). The latency is measured by the page
// itself (tools/web/index.html): requestVideoFrameCallback's expected display time
// minus the frame's publish time, which the server sends per RTP timestamp.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(new URL("../web/package.json", import.meta.url));
const puppeteer = require("puppeteer-core");
const cli = process.env.SHMFRAME_CLI;
const sizes = process.argv.slice(2).length ? process.argv.slice(2) : ["1280x720", "1920x1080"];
const seconds = Number(process.env.SECONDS_PER_RUN || 15);
const viewerCounts = [1, 4];
const feedDir = fs.mkdtempSync(path.join(os.tmpdir(), "shmframe-web-bench-"));
const env = { ...process.env, SHMFRAME_DIR: feedDir };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];

function start(args) {
  const child = spawn(cli, args, { env, stdio: ["ignore", "pipe", "inherit"] });
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  children.push(child);
  return child;
}
const cpuSeconds = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime, in ticks of 10 ms
};
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
};

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, pipe: true,
  userDataDir: fs.mkdtempSync(path.join(os.tmpdir(), "shmframe-web-bench-chromium-")),
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
         "--disable-features=WebRtcHideLocalIpsWithMdns", "--disable-background-timer-throttling",
         "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
});
const results = [];
try {
  for (const size of sizes) {
    const writer = start(["publish", "cam", "--pattern", "moving", "--size", size, "--fps", "30", "--quiet"]);
    while (!fs.existsSync(path.join(feedDir, "cam.sock"))) await sleep(100);
    const server = start(["web", "--listen", "127.0.0.1:0"]);
    while (!/listening (\S+)/.test(server.output)) await sleep(100);
    const url = /listening (\S+)/.exec(server.output)[1];
    await sleep(2000);
    const idleStart = cpuSeconds(server.pid);
    await sleep(5000);
    const idleCpu = (cpuSeconds(server.pid) - idleStart) / 5;
    const pages = [];
    for (const viewers of viewerCounts) {
      while (pages.length < viewers) {
        const page = await browser.newPage();
        await page.goto(url);
        await page.waitForFunction(() => window.shmframe.feeds.length > 0, { timeout: 30000 });
        await page.click('.feed[data-feed="cam"]');
        await page.waitForFunction(() => window.shmframe.frames > 30, { timeout: 60000 });
        pages.push(page);
      }
      // Only the tab in front renders (and so measures): the first one.
      await pages[0].bringToFront();
      for (const page of pages) await page.evaluate(() => (window.shmframe.latencies = []));
      const cpuStart = cpuSeconds(server.pid);
      await sleep(seconds * 1000);
      const cpu = (cpuSeconds(server.pid) - cpuStart) / seconds;
      const latencies = await pages[0].evaluate(() => window.shmframe.latencies);
      if (!latencies.length) latencies.push(NaN);
      const fps = await pages[0].evaluate(() => window.shmframe.fps);
      results.push({ size, viewers, samples: latencies.length, fps: fps.toFixed(1),
                     p50: percentile(latencies, 50).toFixed(1), p95: percentile(latencies, 95).toFixed(1),
                     serverCpuPercent: (cpu * 100).toFixed(1), idleCpuPercent: (idleCpu * 100).toFixed(1),
                     cpuPercentPerViewer: (((cpu - idleCpu) * 100) / viewers).toFixed(1) });
      console.log(JSON.stringify(results[results.length - 1]));
    }
    for (const page of pages) await page.close();
    server.kill("SIGTERM");
    writer.kill("SIGTERM");
    await sleep(1000);
  }
} finally {
  await browser.close();
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  fs.rmSync(feedDir, { recursive: true, force: true });
}
console.log("| size | viewers | frames seen | fps | p50 ms | p95 ms | server CPU % | per viewer % |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of results) {
  console.log(`| ${r.size} | ${r.viewers} | ${r.samples} | ${r.fps} | ${r.p50} | ${r.p95} | ${r.serverCpuPercent} | ${r.cpuPercentPerViewer} |`);
}
