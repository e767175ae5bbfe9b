// SPDX-License-Identifier: LGPL-2.1-or-later
#include "writer_credentials.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

namespace shmframe {
namespace {

constexpr const char* kTrustVariable = "SHMFRAME_TRUSTED_WRITERS";
constexpr std::size_t kMaxTrustedUids = 64;

// What SHMFRAME_TRUSTED_WRITERS says: comma-separated uids, or "any". Anything else
// (empty items, signs, spaces, numbers past uid_t, too many) is nullopt: not trusted.
struct EnvironmentTrust {
    bool any = false;
    std::vector<uid_t> uids;
};

std::optional<EnvironmentTrust> parseTrust(std::string_view text) {
    EnvironmentTrust trust;
    if (text == "any") {
        trust.any = true;
        return trust;
    }
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        std::uint32_t uid = 0;
        const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), uid);
        if (item.empty() || error != std::errc{} || end != item.data() + item.size() ||
            uid == static_cast<std::uint32_t>(-1) || trust.uids.size() == kMaxTrustedUids) {
            return std::nullopt;
        }
        trust.uids.push_back(static_cast<uid_t>(uid));
        if (comma == std::string_view::npos) {
            return trust;
        }
        text.remove_prefix(comma + 1);
        if (text.empty()) {
            return std::nullopt;  // a trailing comma
        }
    }
    return trust;
}

}  // namespace

Result<void> checkWriterCredentials(int fd, const ReaderOptions& options, const std::string& dir) {
    ucred writer{};
    socklen_t length = sizeof(writer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &writer, &length) != 0 ||
        length != sizeof(writer)) {
        return Error::fromErrno("asking the kernel who the writer is (SO_PEERCRED)", errno);
    }
    if (options.acceptAnyWriter || writer.uid == ::getuid() || writer.uid == ::geteuid() ||
        writer.uid == 0 ||
        std::find(options.trustedWriterUids.begin(), options.trustedWriterUids.end(), writer.uid) !=
            options.trustedWriterUids.end()) {
        return {};
    }
    std::string environmentNote;
    if (const char* variable = std::getenv(kTrustVariable); variable && *variable) {
        const auto trust = parseTrust(variable);
        if (trust && (trust->any || std::find(trust->uids.begin(), trust->uids.end(), writer.uid) !=
                                        trust->uids.end())) {
            return {};
        }
        environmentNote = trust ? std::string("; ") + kTrustVariable + " does not list it"
                                : std::string("; ") + kTrustVariable +
                                      " is ignored: it is not a comma-separated list of at "
                                      "most 64 uids, nor \"any\"";
    }
    return Error::make(
        Errc::PermissionDenied,
        "refused the writer in " + dir + ": it runs as uid " + std::to_string(writer.uid) +
            " (pid " + std::to_string(writer.pid) + "), not as you (uid " +
            std::to_string(::getuid()) + ") nor root" + environmentNote +
            ". If this feed is shared on purpose, trust that uid: " + kTrustVariable + "=" +
            std::to_string(writer.uid) +
            " in the reader's environment (every shmframe program and "
            "element), or ReaderOptions::trustedWriterUids");
}

pid_t peerPid(int fd) {
    ucred peer{};
    socklen_t length = sizeof(peer);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || length != sizeof(peer)) {
        return 0;
    }
    return peer.pid;
}

}  // namespace shmframe
