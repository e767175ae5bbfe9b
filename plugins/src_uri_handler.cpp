// SPDX-License-Identifier: LGPL-2.1-or-later
#include "src_uri_handler.h"

#include <string>

#include "shmframe/feed.h"

namespace {

constexpr const char kScheme[] = "shmframe";

GstURIType uriType(GType) {
    return GST_URI_SRC;
}

const gchar* const* uriProtocols(GType) {
    static const gchar* const protocols[] = {kScheme, nullptr};
    return protocols;
}

// "shmframe://" + feed name; an absolute socket path gives "shmframe:///path".
gchar* uriGet(GstURIHandler* handler) {
    gchar* feed = nullptr;
    g_object_get(handler, "feed", &feed, nullptr);
    if (!feed) {
        return nullptr;
    }
    gchar* uri = g_strconcat(kScheme, "://", feed, nullptr);
    g_free(feed);
    return uri;
}

gboolean uriSet(GstURIHandler* handler, const gchar* uri, GError** error) {
    const std::string prefix = std::string(kScheme) + "://";
    const std::string text = uri ? uri : "";
    if (text.compare(0, prefix.size(), prefix) != 0) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_UNSUPPORTED_PROTOCOL,
                    "'%s' is not a shmframe:// URI", text.c_str());
        return FALSE;
    }
    const std::string feed = text.substr(prefix.size());
    if (auto valid = shmframe::validateFeedName(feed); !valid) {
        g_set_error(error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
                    "'%s' does not name a feed (shmframe://NAME, NAME [A-Za-z0-9._-]{1,64}, "
                    "or shmframe:///absolute/socket/path): %s",
                    text.c_str(), valid.error().message.c_str());
        return FALSE;
    }
    g_object_set(handler, "feed", feed.c_str(), nullptr);
    return TRUE;
}

}  // namespace

void gst_shm_frame_src_uri_handler_init(gpointer iface, gpointer) {
    auto* handler = static_cast<GstURIHandlerInterface*>(iface);
    handler->get_type = uriType;
    handler->get_protocols = uriProtocols;
    handler->get_uri = uriGet;
    handler->set_uri = uriSet;
}
