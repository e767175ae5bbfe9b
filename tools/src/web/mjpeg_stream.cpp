// SPDX-License-Identifier: LGPL-2.1-or-later
#include "mjpeg_stream.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "feed_images.h"
#include "main_thread.h"

namespace shmframe::cli::web {
namespace {

constexpr const char* kBoundary = "shmframe-frame";
// At most this many frames per second are encoded (latest mode skips the rest).
constexpr auto kMinFrameInterval = std::chrono::milliseconds(33);
constexpr int kJpegQuality = 80;
// A client with this much unsent skips frames; one that sent nothing for this long goes.
constexpr std::size_t kMaxUnsentBytes = 4u << 20;
constexpr gint64 kStallTimeoutUs = 10 * G_USEC_PER_SEC;

}  // namespace

Result<std::shared_ptr<MjpegStream>> MjpegStream::start(const std::string& feed) {
    ReaderOptions options;
    options.mode = ReadMode::Latest;
    options.waitForWriter = true;
    options.reconnect = true;
    options.clientName = "shmframe web (mjpeg)";
    auto reader = Reader::open(feed, options);
    if (!reader) {
        return std::move(reader).error();
    }
    std::shared_ptr<MjpegStream> stream(new MjpegStream(feed, std::move(*reader)));
    stream->thread_ = std::thread([raw = stream.get()] { raw->readLoop(); });
    return stream;
}

MjpegStream::MjpegStream(std::string feed, Reader reader)
    : feed_(std::move(feed)), reader_(std::move(reader)) {}

MjpegStream::~MjpegStream() {
    stopping_ = true;
    reader_.interrupt();
    if (thread_.joinable()) {
        thread_.join();
    }
    for (Client& client : clients_) {
        g_signal_handlers_disconnect_by_data(client.message, this);
        soup_message_body_complete(soup_server_message_get_response_body(client.message));
        soup_server_message_unpause(client.message);
        g_object_unref(client.message);
    }
}

void MjpegStream::readLoop() {
    auto lastEncode = std::chrono::steady_clock::now() - kMinFrameInterval;
    while (!stopping_) {
        auto frame = reader_.next(std::chrono::milliseconds(500));
        if (!frame) {
            if (frame.error().code == Errc::Interrupted) {
                break;
            }
            continue;  // timeouts, writer gone (we reconnect), end of stream
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - lastEncode < kMinFrameInterval) {
            continue;
        }
        lastEncode = now;
        auto image = copyFrameImage(*frame);
        frame->release();
        if (!image) {
            continue;
        }
        std::vector<unsigned char> jpeg = encodeJpeg(*image, kJpegQuality);
        if (jpeg.empty()) {
            continue;
        }
        ++framesEncoded_;
        bool post = false;
        {
            std::lock_guard lock(latestMutex_);
            latest_ = std::move(jpeg);
            post = !sendPending_;
            sendPending_ = true;
        }
        if (post) {
            postToMainThread(weak_from_this(), [this] { sendLatest(); });
        }
    }
}

void MjpegStream::sendLatest() {
    std::vector<unsigned char> jpeg;
    {
        std::lock_guard lock(latestMutex_);
        jpeg.swap(latest_);
        sendPending_ = false;
    }
    if (jpeg.empty()) {
        return;
    }
    char header[160];
    std::snprintf(header, sizeof header,
                  "--%s\r\nContent-Type: image/jpeg\r\nContent-Length: %zu\r\n\r\n", kBoundary,
                  jpeg.size());
    const std::size_t partSize = std::strlen(header) + jpeg.size() + 2;
    const gint64 now = g_get_monotonic_time();
    std::vector<SoupServerMessage*> stalled;
    for (Client& client : clients_) {
        if (client.unsentBytes > kMaxUnsentBytes) {
            // Not reading: skip this frame; drop the client if it stays like that.
            if (client.stalledSinceUs == 0) {
                client.stalledSinceUs = now;
            } else if (now - client.stalledSinceUs > kStallTimeoutUs) {
                stalled.push_back(client.message);
            }
            continue;
        }
        client.stalledSinceUs = 0;
        SoupMessageBody* body = soup_server_message_get_response_body(client.message);
        soup_message_body_append(body, SOUP_MEMORY_COPY, header, std::strlen(header));
        soup_message_body_append(body, SOUP_MEMORY_COPY, jpeg.data(), jpeg.size());
        soup_message_body_append(body, SOUP_MEMORY_STATIC, "\r\n", 2);
        client.unsentBytes += partSize;
        soup_server_message_unpause(client.message);
    }
    for (SoupServerMessage* message : stalled) {
        dropClient(message);
    }
}

void MjpegStream::addClient(SoupServerMessage* message) {
    soup_server_message_set_status(message, SOUP_STATUS_OK, nullptr);
    SoupMessageHeaders* headers = soup_server_message_get_response_headers(message);
    soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
    const std::string type = std::string("multipart/x-mixed-replace; boundary=") + kBoundary;
    soup_message_headers_replace(headers, "Content-Type", type.c_str());
    soup_message_headers_replace(headers, "Cache-Control", "no-store");
    // Every chunk libsoup writes comes back here, so a client's backlog is known.
    g_signal_connect(message, "wrote-body-data",
                     G_CALLBACK(+[](SoupServerMessage* msg, guint size, gpointer self) {
                         for (Client& client : static_cast<MjpegStream*>(self)->clients_) {
                             if (client.message == msg) {
                                 client.unsentBytes -=
                                     std::min<std::size_t>(client.unsentBytes, size);
                             }
                         }
                     }),
                     this);
    g_signal_connect(message, "finished", G_CALLBACK(+[](SoupServerMessage* msg, gpointer self) {
                         static_cast<MjpegStream*>(self)->removeClient(msg);
                     }),
                     this);
    clients_.push_back(Client{static_cast<SoupServerMessage*>(g_object_ref(message)), 0, 0});
}

void MjpegStream::dropClient(SoupServerMessage* message) {
    ++clientsDropped_;
    g_object_ref(message);
    if (GSocket* socket = soup_server_message_get_socket(message)) {
        g_socket_shutdown(socket, TRUE, TRUE, nullptr);
    }
    soup_message_body_complete(soup_server_message_get_response_body(message));
    soup_server_message_unpause(message);
    g_object_unref(message);
}

void MjpegStream::removeClient(SoupServerMessage* message) {
    auto it = std::find_if(clients_.begin(), clients_.end(),
                           [message](const Client& client) { return client.message == message; });
    if (it == clients_.end()) {
        return;
    }
    g_signal_handlers_disconnect_by_data(message, this);
    g_object_unref(message);
    clients_.erase(it);
    if (clients_.empty() && onIdle_) {
        // Later: the idle handler may destroy this stream.
        postToMainThread(weak_from_this(), [this] {
            if (clients_.empty() && onIdle_) {
                onIdle_();
            }
        });
    }
}

}  // namespace shmframe::cli::web
