// SPDX-License-Identifier: LGPL-2.1-or-later
#include "memory_admission.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <limits>

#include "unique_fd.h"

namespace shmframe::memory_admission {
namespace {

constexpr std::string_view kCgroupRoot = "/sys/fs/cgroup";
// Files of the kind we read are a few KiB; anything longer is not what we expect.
constexpr std::size_t kMaxFileBytes = 64 * 1024;

std::optional<std::string> readSmallFile(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        return std::nullopt;
    }
    std::string text(kMaxFileBytes, '\0');
    std::size_t used = 0;
    while (used < text.size()) {
        const ssize_t got = ::read(fd.get(), text.data() + used, text.size() - used);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            return std::nullopt;
        }
        if (got == 0) {
            break;
        }
        used += static_cast<std::size_t>(got);
    }
    text.resize(used);
    return text;
}

// A decimal number that fits in 64 bits, nothing else; trailing spaces allowed.
std::optional<std::uint64_t> parseDecimal(std::string_view text) {
    std::uint64_t value = 0;
    std::size_t digits = 0;
    for (; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; ++digits) {
        const auto digit = static_cast<std::uint64_t>(text[digits] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            return std::nullopt;
        }
        value = value * 10 + digit;
    }
    if (digits == 0) {
        return std::nullopt;
    }
    for (char rest : text.substr(digits)) {
        if (rest != ' ' && rest != '\n' && rest != '\t') {
            return std::nullopt;
        }
    }
    return value;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
        text.remove_suffix(1);
    }
    return text;
}

constexpr std::uint64_t kUnknown = std::numeric_limits<std::uint64_t>::max();

// A cgroup counter file's value; kUnknown when missing, "max" or not a number.
std::uint64_t readCgroupBytes(const std::string& path) {
    const auto text = readSmallFile(path);
    return text ? parseCgroupBytes(*text).value_or(kUnknown) : kUnknown;
}

// Lowers \a best to what the cgroup at \a dir (and each ancestor up to \a root) still
// allows.
void applyCgroupLimits(const std::string& root, const std::string& path, const char* limitFile,
                       const char* usageFile, std::optional<Headroom>& best) {
    std::string relative = path;
    for (;;) {
        const std::string dir = root + relative;
        const std::uint64_t limit = readCgroupBytes(dir + "/" + limitFile);
        const std::uint64_t usage = readCgroupBytes(dir + "/" + usageFile);
        if (limit != kUnknown && usage != kUnknown) {
            const std::uint64_t left = limit > usage ? limit - usage : 0;
            if (!best || left < best->bytes) {
                best = Headroom{left, "the limit of memory cgroup " +
                                          (relative.empty() ? std::string("/") : relative) + " (" +
                                          describeBytes(limit) + ") minus its use"};
            }
        }
        const auto slash = relative.rfind('/');
        if (relative.empty() || slash == std::string::npos) {
            return;
        }
        relative.resize(slash);
    }
}

}  // namespace

std::optional<std::uint64_t> parseMemAvailable(std::string_view meminfo) {
    constexpr std::string_view kKey = "MemAvailable:";
    std::size_t start = 0;
    while (start < meminfo.size()) {
        auto end = meminfo.find('\n', start);
        if (end == std::string_view::npos) {
            end = meminfo.size();
        }
        const std::string_view line = meminfo.substr(start, end - start);
        start = end + 1;
        if (!line.starts_with(kKey)) {
            continue;
        }
        std::string_view value = trim(line.substr(kKey.size()));
        if (!value.ends_with(" kB")) {
            return std::nullopt;
        }
        value = trim(value.substr(0, value.size() - 3));
        const auto kib = parseDecimal(value);
        if (!kib || *kib > std::numeric_limits<std::uint64_t>::max() / 1024) {
            return std::nullopt;
        }
        return *kib * 1024;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> parseCgroupBytes(std::string_view text) {
    text = trim(text);
    if (text == "max") {
        return std::nullopt;
    }
    return parseDecimal(text);
}

std::optional<std::string> parseCgroupPath(std::string_view procSelfCgroup, bool unified) {
    std::size_t start = 0;
    while (start < procSelfCgroup.size()) {
        auto end = procSelfCgroup.find('\n', start);
        if (end == std::string_view::npos) {
            end = procSelfCgroup.size();
        }
        const std::string_view line = procSelfCgroup.substr(start, end - start);
        start = end + 1;
        // hierarchy-id:controller-list:path
        const auto first = line.find(':');
        const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos) {
            continue;
        }
        const std::string_view id = line.substr(0, first);
        const std::string_view controllers = line.substr(first + 1, second - first - 1);
        std::string_view path = line.substr(second + 1);
        bool match = false;
        if (unified) {
            match = id == "0" && controllers.empty();
        } else {
            for (std::size_t from = 0; from <= controllers.size();) {
                auto comma = controllers.find(',', from);
                if (comma == std::string_view::npos) {
                    comma = controllers.size();
                }
                match = match || controllers.substr(from, comma - from) == "memory";
                from = comma + 1;
            }
        }
        if (!match) {
            continue;
        }
        if (path.empty() || path.front() != '/' || path.find("/..") != std::string_view::npos ||
            path.find('\0') != std::string_view::npos) {
            return std::nullopt;
        }
        while (path.size() > 1 && path.back() == '/') {
            path.remove_suffix(1);
        }
        return path == "/" ? std::string() : std::string(path);
    }
    return std::nullopt;
}

std::string describeBytes(std::uint64_t bytes) {
    char text[64];
    const double gib = double(bytes) / double(1ull << 30);
    if (gib >= 1.0) {
        std::snprintf(text, sizeof(text), "%.1f GiB", gib);
    } else {
        std::snprintf(text, sizeof(text), "%.1f MiB", double(bytes) / double(1ull << 20));
    }
    return std::string(text) + " (" + std::to_string(bytes) + " bytes)";
}

std::optional<Headroom> headroom() {
    std::optional<Headroom> best;
    if (const auto meminfo = readSmallFile("/proc/meminfo")) {
        if (const auto available = parseMemAvailable(*meminfo)) {
            best = Headroom{*available, "MemAvailable in /proc/meminfo"};
        }
    }
    const auto cgroups = readSmallFile("/proc/self/cgroup");
    if (!cgroups) {
        return best;
    }
    const std::string root(kCgroupRoot);
    if (auto path = parseCgroupPath(*cgroups, true);
        path && ::access((root + "/cgroup.controllers").c_str(), F_OK) == 0) {
        applyCgroupLimits(root, *path, "memory.max", "memory.current", best);
    } else if (auto v1 = parseCgroupPath(*cgroups, false)) {
        // Inside a cgroup namespace our own path may not exist under the mount: its
        // root is then our cgroup.
        const std::string mount = root + "/memory";
        const bool present = ::access((mount + *v1).c_str(), F_OK) == 0;
        applyCgroupLimits(mount, present ? *v1 : std::string(), "memory.limit_in_bytes",
                          "memory.usage_in_bytes", best);
    }
    return best;
}

Result<void> admit(std::uint64_t bytes, std::string_view what) {
    const auto room = headroom();
    if (!room || bytes <= room->bytes) {
        return {};
    }
    return Error::make(Errc::SystemError,
                       std::string(what) + " needs " + describeBytes(bytes) +
                           " of memory but only " + describeBytes(room->bytes) +
                           " is available to this process (" + room->limitedBy +
                           "); use fewer slots or a smaller format",
                       ENOMEM);
}

Result<void> populate(std::byte* data, std::size_t size) {
#ifndef MADV_POPULATE_WRITE
    constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14
#endif
    int result;
    do {
        result = ::madvise(data, size, MADV_POPULATE_WRITE);
    } while (result != 0 && errno == EINTR);
    if (result == 0) {
        return {};
    }
    if (errno != EINVAL) {
        return Error::fromErrno("taking " + describeBytes(size) + " of memory for the pool", errno);
    }
    const long page = ::sysconf(_SC_PAGESIZE);
    auto* bytes = reinterpret_cast<volatile std::uint8_t*>(data);
    for (std::size_t offset = 0; offset < size; offset += static_cast<std::size_t>(page)) {
        bytes[offset] = 0;
    }
    return {};
}

}  // namespace shmframe::memory_admission
