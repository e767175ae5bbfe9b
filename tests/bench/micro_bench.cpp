// SPDX-License-Identifier: LGPL-2.1-or-later
// Micro-benchmarks (Google Benchmark) of the per-frame calls on their own, in one
// process and without wake-ups: what loan()+publish() and next()+release() cost in
// CPU, and a memcpy of the same frame for scale. The cross-process latency harness is
// api_bench.cpp; these explain its CPU numbers.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "shmframe/log.h"
#include "shmframe/reader.h"
#include "shmframe/writer.h"

namespace {

using namespace shmframe;

std::uint32_t sizeWidth(std::int64_t which) {
    return which == 0 ? 1280 : which == 1 ? 1920 : 3840;
}
std::uint32_t sizeHeight(std::int64_t which) {
    return which == 0 ? 720 : which == 1 ? 1080 : 2160;
}

std::string label(std::int64_t which) {
    return std::to_string(sizeWidth(which)) + "x" + std::to_string(sizeHeight(which));
}

std::optional<Writer> makeWriter(benchmark::State& state, const std::string& feed) {
    auto format = Format::make(PixelFormat::RGBA, sizeWidth(state.range(0)),
                               sizeHeight(state.range(0)), {60, 1});
    auto writer = format ? Writer::create(feed, *format) : Result<Writer>(format.error());
    if (!writer) {
        state.SkipWithError(writer.error().message.c_str());
        return std::nullopt;
    }
    return std::move(*writer);
}

// What every writer-side benchmark times: loan(), an 8-byte stamp, publish().
void stampAndPublish(Writer& writer, std::uint64_t index) {
    auto frame = writer.loan();
    std::memcpy(frame->plane(0).data(), &index, sizeof(index));
    benchmark::DoNotOptimize(writer.publish(std::move(*frame)));
}

// loan() + an 8-byte stamp + publish(), no reader connected.
void BM_LoanPublish(benchmark::State& state) {
    auto writer = makeWriter(state, "micro-loan");
    if (!writer) {
        return;
    }
    std::uint64_t index = 0;
    for (auto _ : state) {
        stampAndPublish(*writer, index++);
    }
    state.SetLabel(label(state.range(0)));
}

// The same with one connected reader that is awake (no wake-up is sent).
void BM_LoanPublishOneReader(benchmark::State& state) {
    auto writer = makeWriter(state, "micro-loan-reader");
    if (!writer) {
        return;
    }
    auto reader = Reader::open("micro-loan-reader");
    if (!reader) {
        state.SkipWithError(reader.error().message.c_str());
        return;
    }
    std::uint64_t index = 0;
    for (auto _ : state) {
        stampAndPublish(*writer, index++);
    }
    state.SetLabel(label(state.range(0)));
}

// Reader side: tryNext() of a frame just published, read its stamp, release it. The
// publish is excluded from the timing.
void BM_TakeFrame(benchmark::State& state) {
    auto writer = makeWriter(state, "micro-take");
    if (!writer) {
        return;
    }
    auto reader = Reader::open("micro-take");
    if (!reader) {
        state.SkipWithError(reader.error().message.c_str());
        return;
    }
    std::uint64_t index = 0;
    for (auto _ : state) {
        state.PauseTiming();
        stampAndPublish(*writer, index++);
        state.ResumeTiming();
        auto frame = reader->tryNext();
        if (!frame) {
            state.SkipWithError(frame.error().message.c_str());
            break;
        }
        std::uint64_t stamp;
        std::memcpy(&stamp, frame->plane(0).data(), sizeof(stamp));
        benchmark::DoNotOptimize(stamp);
    }
    state.SetLabel(label(state.range(0)));
}

void BM_MemcpyFrame(benchmark::State& state) {
    const std::size_t bytes =
        std::size_t(sizeWidth(state.range(0))) * sizeHeight(state.range(0)) * 4;
    auto source = std::make_unique<std::byte[]>(bytes);
    auto target = std::make_unique<std::byte[]>(bytes);
    std::memset(source.get(), 1, bytes);
    std::memset(target.get(), 0, bytes);
    for (auto _ : state) {
        std::memcpy(target.get(), source.get(), bytes);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes));
    state.SetLabel(label(state.range(0)));
}

BENCHMARK(BM_LoanPublish)->DenseRange(0, 2);
BENCHMARK(BM_LoanPublishOneReader)->DenseRange(0, 2);
BENCHMARK(BM_TakeFrame)->DenseRange(0, 2);
BENCHMARK(BM_MemcpyFrame)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    // Feeds of our own, in a dir removed at the end.
    std::string dir = (std::filesystem::temp_directory_path() / "shmframe-micro-XXXXXX");
    if (!::mkdtemp(dir.data())) {
        return 1;
    }
    ::setenv("SHMFRAME_DIR", dir.c_str(), 1);
    shmframe::setLogHandler([](shmframe::LogLevel level, std::string_view message) {
        if (level >= shmframe::LogLevel::Warning) {
            fprintf(stderr, "shmframe: %.*s\n", int(message.size()), message.data());
        }
    });
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return 0;
}
