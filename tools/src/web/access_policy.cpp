// SPDX-License-Identifier: LGPL-2.1-or-later
#include "access_policy.h"

#include <cstring>

namespace shmframe::cli::web {
namespace {

// Compares in a time that does not depend on where the strings differ.
bool equalConstantTime(const std::string& given, const std::string& expected) {
    unsigned char difference = given.size() == expected.size() ? 0 : 1;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        difference |= static_cast<unsigned char>(a ^ static_cast<unsigned char>(expected[i]));
    }
    return difference == 0;
}

std::string queryToken(SoupServerMessage* message) {
    GUri* uri = soup_server_message_get_uri(message);
    const char* query = uri ? g_uri_get_query(uri) : nullptr;
    if (!query) {
        return {};
    }
    GHashTable* fields = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, nullptr);
    if (!fields) {
        return {};
    }
    const char* token = static_cast<const char*>(g_hash_table_lookup(fields, "token"));
    std::string value = token ? token : "";
    g_hash_table_unref(fields);
    return value;
}

}  // namespace

AccessPolicy::AccessPolicy(std::string token, std::uint16_t port)
    : token_(std::move(token)), port_(port) {}

bool AccessPolicy::hostIsLoopback(const char* host) const {
    if (!host) {
        return false;
    }
    const std::string port = ":" + std::to_string(port_);
    for (const char* name : {"127.0.0.1", "localhost", "[::1]"}) {
        if (std::strcmp(host, name) == 0 || (std::string(name) + port) == host) {
            return true;
        }
    }
    return false;
}

bool AccessPolicy::allows(SoupServerMessage* message) const {
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(message);
    if (token_.empty()) {
        return hostIsLoopback(soup_message_headers_get_one(headers, "Host"));
    }
    if (const char* authorization = soup_message_headers_get_one(headers, "Authorization");
        authorization && std::strncmp(authorization, "Bearer ", 7) == 0 &&
        equalConstantTime(authorization + 7, token_)) {
        return true;
    }
    return equalConstantTime(queryToken(message), token_);
}

bool AccessPolicy::allowsWebSocket(SoupServerMessage* message) const {
    if (!allows(message)) {
        return false;
    }
    SoupMessageHeaders* headers = soup_server_message_get_request_headers(message);
    const char* origin = soup_message_headers_get_one(headers, "Origin");
    const char* host = soup_message_headers_get_one(headers, "Host");
    if (!origin) {
        return true;  // not a browser: the token (or loopback) is all there is to check
    }
    return host && (std::string("http://") + host) == origin;
}

}  // namespace shmframe::cli::web
