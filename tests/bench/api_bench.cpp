// SPDX-License-Identifier: LGPL-2.1-or-later
// The shmframe C++ API across processes: a writer that only stamps frames and
// publishes them at a fixed rate (or as fast as it can), and readers in their own
// processes whose first read of each frame's pixels is the stamp. Prints one JSON
// record per run on stdout.
//
//   shmframe_bench_api latency  --wait block|spin|paced --readers N --width W --height H
//                               [--format RGBA|NV12] --fps F --frames N --warmup W
//                               --run R --series NAME
//   shmframe_bench_api saturate --width W --height H [--format F] --seconds S --run R
//   shmframe_bench_api reader   (started by the two above)
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <thread>

#include "bench_common.h"
#include "shmframe/log.h"
#include "shmframe/reader.h"
#include "shmframe/writer.h"

namespace shmframe::bench {
namespace {

constexpr std::uint64_t kMs = 1'000'000ull;
constexpr std::uint64_t kSecond = 1'000'000'000ull;

// A feed dir of our own, removed at the end, so that runs never meet other feeds.
class FeedDir {
  public:
    FeedDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "shmframe-bench-XXXXXX");
        if (::mkdtemp(pattern.data())) {
            path_ = pattern;
            ::setenv("SHMFRAME_DIR", path_.c_str(), 1);
        }
    }
    ~FeedDir() {
        if (!path_.empty()) {
            std::error_code ignored;
            std::filesystem::remove_all(path_, ignored);
        }
    }
    FeedDir(const FeedDir&) = delete;
    FeedDir& operator=(const FeedDir&) = delete;
    bool ok() const { return !path_.empty(); }

  private:
    std::string path_;
};

Result<Format> makeFormat(const FrameSpec& spec, std::uint32_t fps) {
    const auto pixelFormat = pixelFormatFromString(spec.format);
    if (!pixelFormat) {
        return Error::make(Errc::InvalidArgument, "unknown format " + spec.format);
    }
    return Format::make(*pixelFormat, spec.width, spec.height, Fraction{std::int32_t(fps), 1});
}

// Median cost of reading the thread CPU clock twice: subtracted from each
// per-publish CPU measurement, which brackets publish() with two such reads.
std::uint64_t cpuClockPairCost() {
    std::vector<std::uint64_t> costs;
    for (int i = 0; i < 2001; ++i) {
        const std::uint64_t a = threadCpuNs();
        const std::uint64_t b = threadCpuNs();
        costs.push_back(b - a);
    }
    std::nth_element(costs.begin(), costs.begin() + 1000, costs.end());
    return costs[1000];
}

// --- reader process ---------------------------------------------------------------------

int runReader(Args& args) {
    const std::string feed = args.text("feed");
    const std::string waitName = args.text("wait", "block");
    const std::uint64_t warmup = args.number("warmup", 0, 1'000'000);
    // 0: run until end of stream (saturation); else the index of the last frame is known
    // and the measured window closes on it, before end-of-stream handling.
    const std::uint64_t frames = args.number("frames", 0, 100'000'000, 0);
    const std::uint64_t deadline = nowNs() + args.number("timeout-ms", 100, 3'600'000) * kMs;
    args.finish();
    const std::optional<WaitMode> wait = waitModeFromString(waitName);
    if (!wait) {
        std::cerr << "--wait must be block, spin or paced, got '" << waitName << "'\n";
        return 2;
    }
    ReaderOptions options;
    options.mode = ReadMode::Latest;
    options.wait = *wait;
    options.reconnect = false;
    options.clientName = "bench-reader";
    auto reader = Reader::open(feed, options);
    if (!reader) {
        emit(Json{{"error", "reader: " + reader.error().message}});
        return 1;
    }
    // Touched now, so that storing samples never page-faults inside the measured window.
    std::vector<double> samples(std::size_t(frames ? frames + 16 : 1'000'000));
    samples.clear();
    std::uint64_t bad = 0;
    std::uint64_t firstIndex = 0, lastIndex = 0, firstNs = 0, lastNs = 0;
    std::uint64_t cpuStart = 0, cpuEnd = 0;
    Usage usageStart, usageEnd;
    bool windowClosed = false;
    std::string ending = "end of stream";
    while (true) {
        if (nowNs() >= deadline) {
            ending = "timeout";
            break;
        }
        auto frame = reader->next(std::chrono::seconds(2));
        if (!frame) {
            if (frame.error().code == Errc::EndOfStream) {
                break;
            }
            if (frame.error().code == Errc::Timeout) {
                continue;
            }
            ending = frame.error().message;
            break;
        }
        // The stamp is the first thing we read of the frame's pixels.
        const auto stamp = readStamp(frame->plane(0).data());
        const std::uint64_t now = nowNs();
        if (!stamp) {
            ++bad;
            continue;
        }
        if (stamp->index < warmup) {
            continue;
        }
        samples.push_back(double(now - stamp->timeNs) / 1000.0);
        if (samples.size() == 1) {
            cpuStart = threadCpuNs();
            usageStart = processUsage();
            firstIndex = stamp->index;
            firstNs = now;
        }
        lastIndex = stamp->index;
        lastNs = now;
        if (frames && !windowClosed && stamp->index + 1 >= warmup + frames) {
            cpuEnd = threadCpuNs();
            usageEnd = processUsage();
            windowClosed = true;
        }
    }
    if (!windowClosed) {
        cpuEnd = threadCpuNs();
        usageEnd = processUsage();
    }
    const double intervals = samples.size() > 1 ? double(samples.size() - 1) : 1.0;
    const ReaderStats stats = reader->stats();
    Json out = {{"ending", ending},
                {"frames", samples.size()},
                {"first_index", firstIndex},
                {"last_index", lastIndex},
                {"window_ns", lastNs - firstNs},
                {"bad_stamps", bad},
                {"skipped", stats.skipped},
                {"copies", stats.copies},
                {"paced_hits", stats.pacedHits},
                {"paced_misses", stats.pacedMisses},
                {"cpu_us", double(cpuEnd - cpuStart) / 1000.0 / intervals},
                {"minflt", double(usageEnd.minorFaults - usageStart.minorFaults) / intervals},
                {"majflt", double(usageEnd.majorFaults - usageStart.majorFaults) / intervals},
                {"samples", Json::array()}};
    for (double sample : samples) {
        out["samples"].push_back(double(std::llround(sample * 1000.0)) / 1000.0);
    }
    emit(out);
    return 0;
}

// --- writer (and orchestrator) ----------------------------------------------------------

struct WriterRun {
    std::uint64_t published = 0;
    std::uint64_t loanFailures = 0;
    std::string failure;  // set when loan() or publish() keeps failing: the run is void
    double cpuPerPublishUs = 0;
    double minorFaultsPerFrame = 0;
    double majorFaultsPerFrame = 0;
    std::uint64_t elapsedNs = 0;
    Summary publishCallUs;
};

// Publishes warmup + frames stamped frames, paced at fps (0: as fast as possible,
// for `seconds` after the warm-up).
WriterRun publishFrames(Writer& writer, std::uint64_t warmup, std::uint64_t frames,
                        std::uint32_t fps, std::uint64_t seconds) {
    WriterRun run;
    const std::uint64_t pairCost = cpuClockPairCost();
    const std::uint64_t period = fps ? kSecond / fps : 0;
    std::uint64_t next = nowNs() + 10 * kMs;
    std::uint64_t cpuSum = 0;
    std::uint64_t measured = 0;
    std::vector<double> publishCalls(std::size_t(std::min<std::uint64_t>(frames, 1'000'000)));
    publishCalls.clear();  // touched once above: no page fault while measuring
    Usage usageStart;
    std::uint64_t start = 0;
    std::uint64_t stopAt = UINT64_MAX;
    // A library that cannot loan or publish at all is reported at once, not after a
    // whole run of failures.
    constexpr int kGiveUpAfter = 20;
    int failuresInARow = 0;
    for (std::uint64_t index = 0;; ++index) {
        if (fps ? index >= warmup + frames : (index >= warmup && nowNs() >= stopAt)) {
            break;
        }
        if (period) {
            sleepUntil(next);
            next += period;
            if (const std::uint64_t now = nowNs(); next < now) {
                next = now;  // fell behind (a busy machine): do not burst to catch up
            }
        }
        if (index == warmup) {
            usageStart = processUsage();
            start = nowNs();
            stopAt = start + seconds * kSecond;
        }
        const std::uint64_t cpu0 = threadCpuNs();
        auto frame = writer.loan();
        if (!frame) {
            ++run.loanFailures;
            if (++failuresInARow >= kGiveUpAfter) {
                run.failure = "loan() failed " + std::to_string(failuresInARow) +
                              " times in a row: " + frame.error().message;
                break;
            }
            continue;
        }
        writeStamp(frame->plane(0).data(), index);
        const std::uint64_t call0 = nowNs();
        auto published = writer.publish(std::move(*frame));
        const std::uint64_t call1 = nowNs();
        const std::uint64_t cpu1 = threadCpuNs();
        if (!published) {
            if (++failuresInARow >= kGiveUpAfter) {
                run.failure = "publish() failed " + std::to_string(failuresInARow) +
                              " times in a row: " + published.error().message;
                break;
            }
            continue;
        }
        failuresInARow = 0;
        if (index >= warmup) {
            cpuSum += cpu1 - cpu0 > pairCost ? cpu1 - cpu0 - pairCost : 0;
            ++measured;
            if (publishCalls.size() < publishCalls.capacity()) {
                publishCalls.push_back(double(call1 - call0) / 1000.0);
            }
        }
    }
    const Usage usageEnd = processUsage();
    run.elapsedNs = nowNs() - start;
    run.published = measured;
    const double count = measured ? double(measured) : 1.0;
    run.cpuPerPublishUs = double(cpuSum) / 1000.0 / count;
    run.minorFaultsPerFrame = double(usageEnd.minorFaults - usageStart.minorFaults) / count;
    run.majorFaultsPerFrame = double(usageEnd.majorFaults - usageStart.majorFaults) / count;
    run.publishCallUs = summarize(std::move(publishCalls));
    return run;
}

int runWriter(Args& args, bool saturate) {
    const FrameSpec spec = frameSpec(args);
    const std::string waitName = saturate ? "block" : args.text("wait", "block");
    const std::uint64_t readerCount = saturate ? 1 : args.number("readers", 1, 64, 1);
    const std::uint32_t fps = saturate ? 0 : std::uint32_t(args.number("fps", 1, 10'000));
    const std::uint64_t frames = saturate ? 0 : args.number("frames", 10, 10'000'000);
    const std::uint64_t seconds = saturate ? args.number("seconds", 1, 600) : 0;
    const std::uint64_t warmup = args.number("warmup", 0, 100'000, saturate ? 200 : 50);
    const std::uint64_t runIndex = args.number("run", 0, 1000, 0);
    const std::string series = args.text("series", saturate ? "saturation" : "api-" + waitName);
    const std::string group = args.text("group", saturate ? "saturation" : "latency");
    args.finish();
    if (!waitModeFromString(waitName)) {
        std::cerr << "--wait must be block, spin or paced, got '" << waitName << "'\n";
        return 2;
    }

    Json record = {
        {"series", series},      {"group", group},        {"transport", "shmframe C++ API"},
        {"mode", waitName},      {"format", spec.format}, {"width", spec.width},
        {"height", spec.height}, {"run", runIndex},       {"readers", readerCount},
        {"fps_target", fps}};

    // The library's informational lines would interleave with our JSON on stderr only,
    // but keep the run quiet unless something is wrong.
    setLogHandler([](LogLevel level, std::string_view message) {
        if (level >= LogLevel::Warning) {
            std::cerr << "shmframe: " << message << '\n';
        }
    });
    FeedDir dir;
    if (!dir.ok()) {
        emit(skipped(record, "could not create a temporary feed dir"));
        return 0;
    }
    auto format = makeFormat(spec, fps ? fps : 30);
    if (!format) {
        emit(skipped(record, format.error().message));
        return 0;
    }
    const std::string feed = "bench-" + std::to_string(::getpid());
    WriterOptions options;
    options.slotCount = 4;
    auto writer = Writer::create(feed, *format, options);
    if (!writer) {
        emit(skipped(record, "writer: " + writer.error().message));
        return 0;
    }

    const std::uint64_t expectedNs =
        fps ? (warmup + frames) * kSecond / fps : (seconds + 2) * kSecond;
    const std::uint64_t timeoutMs = expectedNs / kMs + 30'000;
    std::vector<Child> readers;
    for (std::uint64_t i = 0; i < readerCount; ++i) {
        auto child = Child::spawnSelf({"reader", "--feed", feed, "--wait", waitName, "--warmup",
                                       std::to_string(warmup), "--frames", std::to_string(frames),
                                       "--timeout-ms", std::to_string(timeoutMs)});
        if (!child) {
            emit(skipped(record, "could not start a reader process"));
            return 0;
        }
        readers.push_back(std::move(*child));
    }
    const std::uint64_t connectDeadline = nowNs() + 15 * kSecond;
    while (writer->stats().readers < readerCount && nowNs() < connectDeadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (writer->stats().readers < readerCount) {
        emit(skipped(record, "only " + std::to_string(writer->stats().readers) + " of " +
                                 std::to_string(readerCount) + " readers connected in 15 s"));
        return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let them go to sleep

    const WriterRun run = publishFrames(*writer, warmup, frames, fps, seconds);
    [[maybe_unused]] auto eos = writer->endOfStream();
    if (!run.failure.empty()) {
        emit(skipped(record, run.failure));
        return 0;  // the reader processes are killed (by pid) as their Child handles go
    }

    const std::uint64_t collectDeadline = nowNs() + 30 * kSecond;
    std::vector<double> pooled;
    Json perReader = Json::array();
    std::uint64_t lost = 0;
    double readerCpu = 0, readerMinflt = 0, readerMajflt = 0, readerFps = 0;
    std::uint64_t pacedHits = 0, pacedMisses = 0;
    for (Child& child : readers) {
        auto line = child.readLine(collectDeadline);
        child.waitOrKill(collectDeadline);
        Json result = line ? Json::parse(*line, nullptr, false) : Json();
        if (!result.is_object() || !result.contains("samples")) {
            emit(skipped(record, "a reader gave no result (" +
                                     (result.is_object() && result.contains("error")
                                          ? result["error"].get<std::string>()
                                          : std::string("timeout or crash")) +
                                     ")"));
            return 0;
        }
        std::vector<double> samples = result["samples"].get<std::vector<double>>();
        pooled.insert(pooled.end(), samples.begin(), samples.end());
        const std::uint64_t expected = saturate ? run.published : frames;
        lost += expected > samples.size() ? expected - samples.size() : 0;
        readerCpu += result["cpu_us"].get<double>();
        readerMinflt += result["minflt"].get<double>();
        readerMajflt += result["majflt"].get<double>();
        const double windowS = double(result["window_ns"].get<std::uint64_t>()) / 1e9;
        const double fpsHere = windowS > 0 ? double(samples.size() - 1) / windowS : 0;
        readerFps += fpsHere;
        Json one = toJson(summarize(samples), false);
        one["cpu_us"] = result["cpu_us"];
        one["fps"] = fpsHere;
        one["ending"] = result["ending"];
        pacedHits += result.value("paced_hits", std::uint64_t{0});
        pacedMisses += result.value("paced_misses", std::uint64_t{0});
        perReader.push_back(one);
    }
    const double n = double(readers.size());
    const Summary latency = summarize(pooled);
    record["frames"] = run.published;
    record["received"] = latency.count;
    record["lost"] = lost;
    record["fps_achieved"] =
        run.elapsedNs ? double(run.published) * 1e9 / double(run.elapsedNs) : 0.0;
    record["reader_fps"] = readerFps / n;
    record["latency_us"] = toJson(latency, true);
    record["writer_cpu_us"] = run.cpuPerPublishUs;
    record["publish_call_us"] = toJson(run.publishCallUs, false);
    record["writer_minflt"] = run.minorFaultsPerFrame;
    record["writer_majflt"] = run.majorFaultsPerFrame;
    record["reader_cpu_us"] = readerCpu / n;
    record["reader_minflt"] = readerMinflt / n;
    record["reader_majflt"] = readerMajflt / n;
    record["loan_failures"] = run.loanFailures;
    if (waitName == "paced") {
        record["paced_hits"] = pacedHits;  // frames caught in a spin window, all readers
        record["paced_misses"] = pacedMisses;
    }
    record["per_reader"] = perReader;
    emit(record);
    return 0;
}

}  // namespace
}  // namespace shmframe::bench

int main(int argc, char** argv) {
    using namespace shmframe::bench;
    const std::string command = argc > 1 ? argv[1] : "";
    Args args(argc, argv, 2);
    if (command == "reader") {
        return runReader(args);
    }
    if (command == "latency") {
        return runWriter(args, false);
    }
    if (command == "saturate") {
        return runWriter(args, true);
    }
    std::cerr << "usage: " << argv[0] << " latency|saturate|reader --option value ...\n"
              << "(run by tests/bench/run.sh; see docs/benchmarks.md)\n";
    return 2;
}
