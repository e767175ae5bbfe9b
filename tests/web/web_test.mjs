// SPDX-License-Identifier: LGPL-2.1-or-later
// Tests of `shmframe web` with real processes and Debian's chromium, headless,
// driven through the DevTools protocol by puppeteer-core.
//   node web_test.mjs CASE        (ctest runs one case per test; see CMakeLists.txt)
// Environment: SHMFRAME_CLI (the shmframe binary), CHROMIUM (default /usr/bin/chromium),
// SHMFRAME_WEB_SCREENSHOT (a PNG path: the page-lists case saves a screenshot there).
// Exit 77 (skipped) when puppeteer-core or chromium is missing.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const kSkip = 77;
const cli = process.env.SHMFRAME_CLI;
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";
let puppeteer;
try {
  puppeteer = (await import("puppeteer-core")).default;
} catch (e) {
  console.log("SKIP: puppeteer-core is not installed (run `npm ci` in tests/web)");
  process.exit(kSkip);
}
if (!cli || !fs.existsSync(cli)) {
  console.error("SHMFRAME_CLI must name the shmframe binary");
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) {
  console.log("SKIP: no chromium at " + chromiumPath);
  process.exit(kSkip);
}

// Everything a case starts, stopped at the end by pid; temp dirs removed.
const children = [];
const tempDirs = [];
let browser = null;

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

const feedDir = tempDir("shmframe-web-feeds-");
const childEnv = { ...process.env, SHMFRAME_DIR: feedDir };

function start(args, { capture = false } = {}) {
  const child = spawn(cli, args, { env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (data) => { child.output += data; if (!capture) return; });
  child.stderr.on("data", (data) => { process.stderr.write(`[${args[0]} ${args[1] || ""}] ${data}`); });
  child.exited = new Promise((resolve) => child.on("exit", resolve));
  children.push(child);
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await child.exited;
  clearTimeout(timer);
}

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const child of children) await stop(child);
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits (up to a deadline that is only there for failures) until check() is truthy.
async function waitFor(what, check, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

function publish(feed, colour, size, extra = []) {
  return start(["publish", feed, "--pattern", "solid:" + colour, "--size", size, "--fps", "30",
                "--quiet", ...extra]);
}

async function feedIsLive(feed) {
  return waitFor(`feed ${feed}`, () => fs.existsSync(path.join(feedDir, feed + ".sock")));
}

async function startServer(args = ["--listen", "127.0.0.1:0"]) {
  const server = start(["web", ...args], { capture: true });
  const line = await waitFor("the server's URL", () => {
    if (server.exitCode !== null) throw new Error("shmframe web exited: " + server.exitCode);
    const match = /^listening (\S+)$/m.exec(server.output);
    return match && match[1];
  });
  server.url = new URL(line);
  return server;
}

// A plain HTTP GET; resolves with status, headers and body (a Buffer).
function get(url, { headers = {}, maxBytes = Infinity, host } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = http.get({ host: u.hostname, port: u.port, path: u.pathname + u.search,
                               headers: host ? { ...headers, Host: host } : headers },
                             (response) => {
      const chunks = [];
      let size = 0;
      response.on("data", (chunk) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= maxBytes) {
          request.destroy();
          resolve({ status: response.statusCode, headers: response.headers,
                    body: Buffer.concat(chunks) });
        }
      });
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers,
                                          body: Buffer.concat(chunks) }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.setTimeout(20000, () => request.destroy(new Error("HTTP timeout")));
  });
}

async function launchBrowser() {
  browser = await puppeteer.launch({
    executablePath: chromiumPath,
    headless: true,
    pipe: true,
    userDataDir: tempDir("shmframe-web-chromium-"),
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
           "--disable-features=WebRtcHideLocalIpsWithMdns",
           "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
           "--disable-backgrounding-occluded-windows"],
  });
  return browser;
}

async function openPage(server) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 640 });
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(server.url.href);
  return page;
}

const pageState = (page) => page.evaluate(() => ({
  feeds: window.shmframe.feeds.map((f) => f.name),
  playing: window.shmframe.playing, connected: window.shmframe.connected,
  frames: window.shmframe.frames, width: window.shmframe.width, height: window.shmframe.height,
  latencies: window.shmframe.latencies.length, errors: window.shmframe.errors,
}));

// The colour in the middle of the video, read back through a canvas.
const videoCentre = (page) => page.evaluate(() => {
  const video = document.getElementById("video");
  if (!video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0);
  const [r, g, b] = context.getImageData(video.videoWidth >> 1, video.videoHeight >> 1, 1, 1).data;
  return [r, g, b];
});

function closeTo(rgb, hex, tolerance = 28) {
  const expected = [0, 2, 4].map((i) => parseInt(hex.substr(i, 2), 16));
  return rgb && rgb.every((value, i) => Math.abs(value - expected[i]) <= tolerance);
}

async function playAndCheckColour(page, feed, colour, width, height) {
  await page.click(`.feed[data-feed="${feed}"]`);
  await waitFor(`${feed} to play at ${width}x${height}`, async () => {
    const state = await pageState(page);
    return state.frames > 5 && state.width === width && state.height === height;
  }, 60000);
  await waitFor(`${feed}'s colour ${colour}`, async () => {
    const rgb = await videoCentre(page);
    return closeTo(rgb, colour) || (console.log("  centre pixel", rgb), false);
  });
}

const cases = {
  async PageListsTheLiveFeeds() {
    publish("cam-red", "E04020", "320x240");
    publish("cam-blue", "2060E0", "320x240");
    await feedIsLive("cam-red");
    await feedIsLive("cam-blue");
    const server = await startServer();
    await launchBrowser();
    const page = await openPage(server);
    await waitFor("both feeds listed", async () => {
      const names = (await pageState(page)).feeds;
      return names.includes("cam-red") && names.includes("cam-blue");
    });
    await waitFor("thumbnails", () => page.evaluate(() =>
      [...document.querySelectorAll(".feed img")].every((img) => img.complete && img.naturalWidth > 0)));
    const listed = await get(new URL("/feeds", server.url).href);
    const names = JSON.parse(listed.body).map((f) => f.name).sort();
    if (names.join() !== "cam-blue,cam-red") throw new Error("/feeds lists " + names);
    // A feed that appears later shows up without a reload.
    publish("cam-late", "20C040", "160x120");
    await waitFor("a new feed listed", async () => (await pageState(page)).feeds.includes("cam-late"));
    if (process.env.SHMFRAME_WEB_SCREENSHOT) {
      await page.click('.feed[data-feed="cam-red"]');
      await waitFor("video for the screenshot", async () => (await pageState(page)).frames > 10, 60000);
      await waitFor("latency on the page", () => page.evaluate(() =>
        document.getElementById("latency").textContent.endsWith("ms")));
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: process.env.SHMFRAME_WEB_SCREENSHOT, fullPage: true });
    }
  },

  async PlayingAFeedShowsItsColour() {
    publish("cam-red", "E04020", "320x240");
    publish("cam-blue", "2060E0", "320x240");
    await feedIsLive("cam-red");
    await feedIsLive("cam-blue");
    const server = await startServer();
    await launchBrowser();
    const page = await openPage(server);
    await waitFor("feeds listed", async () => (await pageState(page)).feeds.length === 2);
    await playAndCheckColour(page, "cam-blue", "2060E0", 320, 240);
    await waitFor("latency measured", async () => (await pageState(page)).latencies > 3);
    // And another feed in the same page.
    await playAndCheckColour(page, "cam-red", "E04020", 320, 240);
  },

  async WriterRestartedWithAnotherSizeKeepsPlaying() {
    let writer = publish("cam", "E04020", "320x240");
    await feedIsLive("cam");
    const server = await startServer();
    await launchBrowser();
    const page = await openPage(server);
    await waitFor("feed listed", async () => (await pageState(page)).feeds.includes("cam"));
    await playAndCheckColour(page, "cam", "E04020", 320, 240);
    await stop(writer);
    writer = publish("cam", "2060E0", "640x360");
    // Same page, no reload: the new size and colour arrive on the same connection.
    await waitFor("the new size", async () => {
      const state = await pageState(page);
      return state.width === 640 && state.height === 360;
    }, 60000);
    await waitFor("the new colour", async () => closeTo(await videoCentre(page), "2060E0"));
    const encoders = JSON.parse((await get(new URL("/stats", server.url).href)).body).encoders;
    if (encoders !== 1) throw new Error(`${encoders} encoders after the restart`);
  },

  async MjpegStreamReachesAPlainHttpClient() {
    publish("cam", "2060E0", "320x240");
    await feedIsLive("cam");
    const server = await startServer();
    const response = await get(new URL("/feeds/cam.mjpeg", server.url).href, { maxBytes: 20000 });
    if (response.status !== 200) throw new Error("status " + response.status);
    if (!/^multipart\/x-mixed-replace; boundary=/.test(response.headers["content-type"])) {
      throw new Error("content type " + response.headers["content-type"]);
    }
    const body = response.body;
    const jpegs = body.toString("latin1").split("\xff\xd8\xff").length - 1;
    if (jpegs < 2) throw new Error(`${jpegs} JPEG frames in ${body.length} bytes`);
    // The full-resolution snapshot is a PNG of the feed's size.
    const png = await get(new URL("/feeds/cam/snapshot.png", server.url).href);
    if (png.status !== 200 || png.body.toString("latin1", 1, 4) !== "PNG") {
      throw new Error("snapshot: status " + png.status);
    }
    const [width, height] = [png.body.readUInt32BE(16), png.body.readUInt32BE(20)];
    if (width !== 320 || height !== 240) throw new Error(`snapshot is ${width}x${height}`);
    // Nothing outside the routes, and no feed name that is a path.
    for (const bad of ["/feeds/..%2F..%2Fetc%2Fpasswd.mjpeg", "/feeds/../cam.mjpeg", "/etc/passwd",
                       "/feeds/nope/thumb.jpg", "/web/", "/feeds/cam/"]) {
      const answer = await get(new URL(bad, server.url).href);
      if (answer.status !== 404 && answer.status !== 400) {
        throw new Error(`${bad}: status ${answer.status}`);
      }
    }
    // A Host that is not loopback (DNS rebinding) is refused without a token.
    const rebound = await get(new URL("/feeds", server.url).href, { host: "evil.example:80" });
    if (rebound.status !== 403) throw new Error("rebinding Host: status " + rebound.status);
  },

  async RequestWithoutTokenOnNonLoopbackBindIsRefused() {
    publish("cam", "2060E0", "160x120");
    await feedIsLive("cam");
    // Only 127.0.0.1 and ::1 go without a token; 127.0.0.2 stands in for any other address.
    const server = await startServer(["--listen", "127.0.0.2:0"]);
    const token = server.url.searchParams.get("token");
    if (!token || token.length < 16) throw new Error("no token printed: " + server.output);
    const base = `http://127.0.0.2:${server.url.port}`;
    for (const route of ["/", "/feeds", "/stats", "/feeds/cam/thumb.jpg", "/feeds/cam.mjpeg", "/ws"]) {
      const refused = await get(base + route);
      if (refused.status !== 403) throw new Error(`${route} without token: ${refused.status}`);
      const wrong = await get(base + route + "?token=" + "x".repeat(token.length));
      if (wrong.status !== 403) throw new Error(`${route} with a wrong token: ${wrong.status}`);
    }
    const page = await get(base + "/?token=" + token);
    if (page.status !== 200 || !page.body.toString().includes("shmframe web")) {
      throw new Error("the page with the token: " + page.status);
    }
    const bearer = await get(base + "/feeds", { headers: { Authorization: "Bearer " + token } });
    if (bearer.status !== 200) throw new Error("Bearer token: " + bearer.status);
    // The browser, given the printed URL, plays.
    await launchBrowser();
    const tab = await openPage(server);
    await waitFor("feed listed", async () => (await pageState(tab)).feeds.includes("cam"));
  },

  async TenViewersOfOneFeedShareOneEncoder() {
    publish("cam", "2060E0", "320x240");
    publish("other", "E04020", "160x120");
    await feedIsLive("cam");
    await feedIsLive("other");
    const server = await startServer();
    const stats = async () => JSON.parse((await get(new URL("/stats", server.url).href)).body);
    await launchBrowser();
    const pages = [];
    for (let i = 0; i < 10; ++i) {
      const page = await openPage(server);
      await waitFor("feed listed", async () => (await pageState(page)).feeds.includes("cam"));
      await page.click('.feed[data-feed="cam"]');
      pages.push(page);
    }
    for (const [i, page] of pages.entries()) {
      // Background tabs do not render: count what each one decodes.
      let seen = null;
      await waitFor(`video in page ${i}`, async () => {
        const decoded = await page.evaluate(() => window.shmframe.framesDecoded());
        seen = { decoded, ...(await pageState(page)) };
        return decoded > 3;
      }, 90000).catch(async (error) => {
        throw new Error(error.message + " " + JSON.stringify({ seen, stats: await stats() }));
      });
    }
    const shared = await stats();
    if (shared.encoders !== 1 || shared.feeds.cam.viewers !== 10) {
      throw new Error("stats: " + JSON.stringify(shared));
    }
    // The eleventh... no: a viewer of another feed gets its own encoder,
    await pages[9].click('.feed[data-feed="other"]');
    await waitFor("a second encoder", async () => (await stats()).encoders === 2);
    // and the encoders stop when their viewers leave.
    for (const page of pages) await page.close();
    await waitFor("no encoder left", async () => (await stats()).encoders === 0);
  },

  async ViewersJoiningAndLeavingNeverStallTheOthers() {
    publish("cam", "2060E0", "320x240");
    publish("other", "E04020", "160x120");
    await feedIsLive("cam");
    await feedIsLive("other");
    const server = await startServer();
    const stats = async () => JSON.parse((await get(new URL("/stats", server.url).href)).body);
    const decoded = (page) => page.evaluate(() => window.shmframe.framesDecoded());
    const decoding = (page, what, more = 3) => waitFor(what, async () => {
      const from = page.baseline ?? 0;
      return (await decoded(page)) > from + more;
    }, 90000);
    await launchBrowser();
    // A viewer that asks for the feed and never answers the offer: its webrtcbin waits
    // for negotiation until the server's answer deadline (20 s) stops it.
    const silent = await openPage(server);
    await silent.evaluate(() => new Promise((resolve, reject) => {
      const socket = new WebSocket(location.href.replace(/^http/, "ws").replace(/\/?(\?.*)?$/, "/ws"));
      socket.onopen = () => { socket.send(JSON.stringify({ type: "play", feed: "cam" })); resolve(); };
      socket.onerror = () => reject(new Error("WebSocket failed"));
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.type === "error") window.silentError = message.message;
      };
      window.silentSocket = socket;
    }));
    const watch = async (feed) => {
      const page = await openPage(server);
      await waitFor("feed listed", async () => (await pageState(page)).feeds.includes(feed));
      await page.click(`.feed[data-feed="${feed}"]`);
      return page;
    };
    const first = await watch("cam");
    const second = await watch("cam");
    const other = await watch("other");
    for (const [i, page] of [first, second, other].entries()) await decoding(page, `video in page ${i}`);
    // One leaves and another joins while the first and the other feed play on.
    const before = await stats();
    await second.close();
    const third = await watch("cam");
    await decoding(third, "video in the page that joined");
    first.baseline = await decoded(first);
    other.baseline = await decoded(other);
    await decoding(first, "the first page still decoding after one left and one joined", 10);
    await decoding(other, "the other feed still decoding", 10);
    const after = await stats();
    // Three viewers of cam, or two once the silent one's answer deadline has passed.
    if (after.encoders !== 2 || ![2, 3].includes(after.feeds.cam.viewers) ||
        !(after.feeds.cam.encoder.frames > before.feeds.cam.encoder.frames)) {
      throw new Error("stats: " + JSON.stringify({ before, after }));
    }
    // The silent viewer is told it is dropped; the others play on; the last viewers of
    // each feed leave; the encoders stop.
    await waitFor("the silent viewer dropped at its answer deadline", async () =>
      /no answer to the offer/.test(await silent.evaluate(() => window.silentError ?? "")), 90000);
    await waitFor("two viewers of cam left", async () => (await stats()).feeds.cam.viewers === 2);
    await silent.close();
    first.baseline = await decoded(first);
    await decoding(first, "the first page after the silent one left", 10);
    for (const page of [first, third, other]) await page.close();
    await waitFor("no encoder left", async () => (await stats()).encoders === 0);
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error("cases: " + Object.keys(cases).join(" "));
  process.exit(2);
}
let status = 0;
try {
  await cases[name]();
  console.log("PASS " + name);
} catch (error) {
  console.error("FAIL " + name + ": " + (error.stack || error));
  status = 1;
}
await cleanup();
process.exit(status);
