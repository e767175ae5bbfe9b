// SPDX-License-Identifier: LGPL-2.1-or-later
#include <signal.h>
#include <time.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "cli.h"

namespace shmframe::cli {
namespace {

std::atomic<bool> stopFlag{false};

extern "C" void onStopSignal(int) {
    stopFlag.store(true, std::memory_order_relaxed);
}

template <typename Number>
bool parseNumber(std::string_view text, Number& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

void printError(std::string_view command, std::string_view message) {
    std::cerr << "shmframe";
    if (!command.empty()) {
        std::cerr << ' ' << command;
    }
    std::cerr << ": error: " << message << '\n';
}

int reportUsageError(const CLI::App& app, const CLI::ParseError& error) {
    std::string command;
    for (const CLI::App* sub = &app; !sub->get_subcommands().empty();) {
        sub = sub->get_subcommands().back();
        command += (command.empty() ? "" : " ") + sub->get_name();
    }
    printError(command, error.what());
    std::cerr << "Run 'shmframe" << (command.empty() ? "" : " " + command)
              << " --help' for usage.\n";
    return kExitUsage;
}

int reportError(std::string_view command, const Error& error) {
    printError(command, error.message);
    switch (error.code) {
        case Errc::InvalidArgument:
        case Errc::InvalidFeedName:
            return kExitUsage;
        default:
            return kExitRuntime;
    }
}

void installStopHandlers() {
    struct sigaction action {};
    action.sa_handler = onStopSignal;
    sigemptyset(&action.sa_mask);
    // No SA_RESTART: a sleep or wait returns early so the command sees the flag.
    action.sa_flags = 0;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

bool stopRequested() {
    return stopFlag.load(std::memory_order_relaxed);
}

Result<Fraction> parseFrameRate(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return Error::make(Errc::InvalidArgument, "bad frame rate '" + std::string(text) +
                                                      "': " + std::string(why) +
                                                      " (e.g. 30, 29.97 or 30000/1001)");
    };
    Fraction rate;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        if (!parseNumber(text.substr(0, slash), rate.num) ||
            !parseNumber(text.substr(slash + 1), rate.den)) {
            return bad("not a fraction of two whole numbers");
        }
        if (rate.den <= 0) {
            return bad("the denominator must be positive");
        }
    } else {
        double value = 0;
        if (!parseNumber(text, value) || !std::isfinite(value)) {
            return bad("not a number");
        }
        if (value > 1000 || value <= 0) {
            return bad("must be more than 0 and at most 1000");
        }
        // Keep three decimals: 29.97 becomes 2997/100.
        const auto thousandths = std::llround(value * 1000);
        const auto divisor = std::gcd(thousandths, 1000LL);
        rate.num = static_cast<std::int32_t>(thousandths / divisor);
        rate.den = static_cast<std::int32_t>(1000 / divisor);
    }
    if (rate.num <= 0 || rate.toDouble() > 1000) {
        return bad("must be more than 0 and at most 1000");
    }
    return rate;
}

std::string pixelFormatNames() {
    std::string names;
    for (PixelFormat format : allPixelFormats()) {
        if (!names.empty()) {
            names += ", ";
        }
        names += toString(format);
    }
    return names;
}

Result<PixelFormat> parsePixelFormat(std::string_view text) {
    auto format = pixelFormatFromString(text);
    if (!format || *format == PixelFormat::Unknown) {
        return Error::make(Errc::InvalidArgument, "unknown pixel format '" + std::string(text) +
                                                      "' (valid formats: " + pixelFormatNames() +
                                                      ")");
    }
    return *format;
}

double secondsSinceLastPublish(const FeedInfo& feed) {
    if (feed.lastPublishNs == 0) {
        return -1.0;
    }
    const std::uint64_t now = monotonicNs();
    return now > feed.lastPublishNs ? double(now - feed.lastPublishNs) / 1e9 : 0.0;
}

namespace {

// A number the reader reports of itself, or null for a reader that does not.
nlohmann::ordered_json reported(const FeedReader& reader, std::uint64_t value) {
    return reader.reportsProgress ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

// "-" for what a reader does not report.
std::string reportedText(const FeedReader& reader, std::uint64_t value) {
    return reader.reportsProgress ? std::to_string(value) : "-";
}

}  // namespace

std::string readerLines(const FeedInfo& feed) {
    std::string text;
    char line[512];
    for (const FeedReader& reader : feed.readerTable) {
        const std::string leases =
            std::to_string(reader.leasesHeld) + "/" + std::to_string(reader.leaseLimit);
        std::snprintf(
            line, sizeof line,
            "  reader %-6u pid %-8d %-10s lag %-8s drops %-10s "
            "holds %-5s %s\n",
            reader.id, static_cast<int>(reader.pid), reader.sequential ? "sequential" : "latest",
            reportedText(reader, reader.lag).c_str(), reportedText(reader, reader.drops).c_str(),
            leases.c_str(), reader.clientName.c_str());
        text += line;
    }
    if (feed.readers > feed.readerTable.size() && feed.readerTableKnown) {
        text += "  (" + std::to_string(feed.readers - feed.readerTable.size()) + " more readers)\n";
    }
    return text;
}

nlohmann::ordered_json readerTableToJson(const FeedInfo& feed) {
    if (!feed.readerTableKnown) {
        return nullptr;  // a writer that predates reader tables
    }
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const FeedReader& reader : feed.readerTable) {
        rows.push_back({
            {"id", reader.id},
            {"pid", reader.pid},
            {"uid", reader.uid},
            {"name", reader.clientName},
            {"mode", reader.sequential ? "sequential" : "latest"},
            {"lag", reported(reader, reader.lag)},
            {"drops", reported(reader, reader.drops)},
            {"received", reported(reader, reader.received)},
            {"leases_held", reader.leasesHeld},
            {"lease_limit", reader.leaseLimit},
            {"revoked_leases", reader.revokedLeases},
        });
    }
    return rows;
}

nlohmann::ordered_json feedToJson(const FeedInfo& feed) {
    const Format& format = feed.format;
    nlohmann::ordered_json planes = nlohmann::ordered_json::array();
    for (std::uint32_t i = 0; i < format.planeCount && i < Format::kMaxPlanes; ++i) {
        planes.push_back({{"offset", format.planes[i].offset},
                          {"stride", format.planes[i].stride},
                          {"size", format.planes[i].size}});
    }
    const double age = secondsSinceLastPublish(feed);
    return {
        {"name", feed.name},
        {"socket", feed.socketPath},
        {"format", std::string(toString(format.pixelFormat))},
        {"width", format.width},
        {"height", format.height},
        {"framerate",
         std::to_string(format.frameRate.num) + "/" + std::to_string(format.frameRate.den)},
        {"fps", format.frameRate.toDouble()},
        {"planes", planes},
        {"frame_size", format.frameSize},
        {"caps", format.caps},
        {"colorimetry",
         {{"matrix", std::string(toString(format.colorimetry.matrix))},
          {"range", std::string(toString(format.colorimetry.range))},
          {"transfer", std::string(toString(format.colorimetry.transfer))},
          {"primaries", std::string(toString(format.colorimetry.primaries))}}},
        {"writer_pid", feed.writerPid},
        {"slots", feed.slotCount},
        {"lease_limit", feed.leaseLimit},
        {"generation", feed.generation},
        {"policy", feed.policy},
        {"published", feed.published},
        {"readers", feed.readers},
        {"seconds_since_publish",
         age < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(age)},
        {"end_of_stream", feed.endOfStream},
        {"pool_bytes", feed.poolBytes},
        {"responding", feed.responding},
        {"reader_table", readerTableToJson(feed)},
    };
}

}  // namespace shmframe::cli
