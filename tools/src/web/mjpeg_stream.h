// SPDX-License-Identifier: LGPL-2.1-or-later
// /feeds/NAME.mjpeg: one feed as a multipart/x-mixed-replace stream of JPEGs, for
// <img> tags, scripts and tools without WebRTC. One reading and encoding thread per
// feed, shared by its clients; a client that stops reading skips frames and is
// dropped after a while, without holding up the others or the feed's writer.
#pragma once

#include <libsoup/soup.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shmframe/reader.h"

namespace shmframe::cli::web {

class MjpegStream : public std::enable_shared_from_this<MjpegStream> {
  public:
    /// Starts reading \a feed (waiting for its writer if there is none yet).
    static Result<std::shared_ptr<MjpegStream>> start(const std::string& feed);
    ~MjpegStream();
    MjpegStream(const MjpegStream&) = delete;
    MjpegStream& operator=(const MjpegStream&) = delete;

    /// Answers \a message with the stream; the client stays until it hangs up or stalls.
    void addClient(SoupServerMessage* message);
    std::size_t clientCount() const { return clients_.size(); }
    std::uint64_t framesEncoded() const { return framesEncoded_.load(); }
    std::uint64_t clientsDropped() const { return clientsDropped_; }

    /// Called (on the main thread) when the last client has gone.
    void setOnIdle(std::function<void()> onIdle) { onIdle_ = std::move(onIdle); }

  private:
    struct Client {
        SoupServerMessage* message = nullptr;
        std::size_t unsentBytes = 0;
        gint64 stalledSinceUs = 0;
    };

    MjpegStream(std::string feed, Reader reader);
    void readLoop();
    void sendLatest();
    void removeClient(SoupServerMessage* message);
    void dropClient(SoupServerMessage* message);

    std::string feed_;
    Reader reader_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> framesEncoded_{0};

    std::mutex latestMutex_;
    std::vector<unsigned char> latest_;  // guarded by latestMutex_
    bool sendPending_ = false;           // guarded by latestMutex_

    std::vector<Client> clients_;  // main thread only
    std::uint64_t clientsDropped_ = 0;
    std::function<void()> onIdle_;
};

}  // namespace shmframe::cli::web
