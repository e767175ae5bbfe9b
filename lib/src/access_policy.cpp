// SPDX-License-Identifier: LGPL-2.1-or-later
// Who may read a feed: parsing "uid" | "any" | "uid:N,..." | "gid:N,...", and the check
// the writer's service makes on every peer's SO_PEERCRED before anything else.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "shmframe/writer.h"

namespace shmframe {

Result<AccessPolicy> AccessPolicy::parse(std::string_view text) {
    AccessPolicy policy;
    if (text.empty() || text == "uid" || text == "user") {
        return policy;
    }
    if (text == "any") {
        policy.anyUser = true;
        return policy;
    }
    const bool uids = text.starts_with("uid:");
    const bool gids = text.starts_with("gid:");
    if (!uids && !gids) {
        return Error::make(Errc::InvalidArgument,
                           "access '" + std::string(text) +
                               "' is not one of: uid, any, uid:N[,N...], gid:N[,N...]");
    }
    std::string_view list = text.substr(4);
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string item(list.substr(0, comma));
        char* end = nullptr;
        errno = 0;
        const unsigned long id = std::strtoul(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || errno != 0 || id > 0xfffffffful) {
            return Error::make(Errc::InvalidArgument, "access '" + std::string(text) + "': '" +
                                                          item + "' is not a number");
        }
        (uids ? policy.allowedUids : policy.allowedGids).push_back(static_cast<uid_t>(id));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return policy;
}

std::string AccessPolicy::describe() const {
    if (anyUser) {
        return "any";
    }
    std::string text = "uid";
    const auto add = [&](const char* prefix, const auto& ids) {
        if (ids.empty()) {
            return;
        }
        text += std::string(" ") + prefix;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            text += (i ? "," : "") + std::to_string(ids[i]);
        }
    };
    add("uid:", allowedUids);
    add("gid:", allowedGids);
    return text;
}

bool AccessPolicy::allows(uid_t uid, gid_t gid) const {
    return anyUser || uid == 0 || uid == ::geteuid() ||
           std::find(allowedUids.begin(), allowedUids.end(), uid) != allowedUids.end() ||
           std::find(allowedGids.begin(), allowedGids.end(), gid) != allowedGids.end();
}

}  // namespace shmframe
