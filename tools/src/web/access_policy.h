// SPDX-License-Identifier: LGPL-2.1-or-later
// Who may use `shmframe web`. With a token, every request (page, images, streams,
// WebSocket) must carry it: ?token=T or "Authorization: Bearer T". Without one
// (only on 127.0.0.1 and ::1), the Host header must name the loopback address, so
// a web site cannot reach the server through DNS rebinding; and a WebSocket must
// come from a page of this server (its Origin), so other sites cannot open one.
#pragma once

#include <libsoup/soup.h>

#include <cstdint>
#include <string>

namespace shmframe::cli::web {

class AccessPolicy {
  public:
    AccessPolicy(std::string token, std::uint16_t port);

    /// True when \a message may be answered.
    bool allows(SoupServerMessage* message) const;
    /// allows() and, for a WebSocket, an Origin of this server (or none: not a browser).
    bool allowsWebSocket(SoupServerMessage* message) const;
    const std::string& token() const { return token_; }

  private:
    bool hostIsLoopback(const char* host) const;

    std::string token_;
    std::uint16_t port_;
};

}  // namespace shmframe::cli::web
