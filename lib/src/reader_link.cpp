// SPDX-License-Identifier: LGPL-2.1-or-later
#include "reader_link.h"

#include <unistd.h>

#include <algorithm>

#include "feed_lock.h"
#include "memfd.h"
#include "wake_channel.h"
#include "writer_credentials.h"

namespace shmframe {
namespace {

constexpr int kHandshakeTimeoutMs = 2000;

Error refusedError(const protocol::Goodbye& refused) {
    const std::string text = protocol::textOf(refused.text, sizeof(refused.text));
    switch (static_cast<protocol::Reason>(refused.reason)) {
        case protocol::Reason::AccessDenied:
            return Error::make(Errc::PermissionDenied, "the writer refused us: " + text);
        case protocol::Reason::VersionMismatch:
            return Error::make(Errc::ProtocolMismatch, "the writer refused us: " + text);
        default:
            return Error::make(Errc::Dropped, "the writer refused us: " + text);
    }
}

// Sends Hello and waits for the answer (Welcome or Refused).
Result<protocol::Message> handshake(int socket, std::uint32_t flags,
                                    const std::string& clientName) {
    protocol::Hello hello{};
    hello.flags = flags;
    hello.pid = static_cast<std::uint32_t>(::getpid());
    protocol::copyText(hello.clientName, sizeof(hello.clientName), clientName);
    const auto packet = protocol::encode(protocol::MessageType::Hello, &hello, sizeof(hello), 0);
    const bool probe = (flags & protocol::kHelloProbe) != 0;
    if (auto sent = protocol::send(socket, packet, {}); !sent) {
        // A writer that refuses our uid answers at once and hangs up: its answer may be
        // waiting for us although our Hello could no longer be sent.
        auto answer = protocol::receive(socket, probe);
        if (answer && answer->type == protocol::MessageType::Refused) {
            return refusedError(std::get<protocol::Goodbye>(answer->payload));
        }
        return Error::make(Errc::NoWriter,
                           "the writer did not take our Hello: " + sent.error().message);
    }
    if (auto ready = protocol::waitReadable(socket, kHandshakeTimeoutMs); !ready) {
        return Error::make(Errc::Timeout, "the writer (pid " + std::to_string(peerPid(socket)) +
                                              ") is not responding: it did not answer our "
                                              "Hello within " +
                                              std::to_string(kHandshakeTimeoutMs) +
                                              " ms (stopped or hung?)");
    }
    auto message = protocol::receive(socket, probe);
    if (!message) {
        if (message.error().code == Errc::WriterGone) {
            // A writer that closes with our Hello unread makes the kernel report a reset
            // ahead of the Refused it queued for us: that answer is still there to read.
            if (auto answer = protocol::receive(socket, probe);
                answer && answer->type == protocol::MessageType::Refused) {
                return refusedError(std::get<protocol::Goodbye>(answer->payload));
            }
            return Error::make(Errc::NoWriter, "the writer hung up during the handshake");
        }
        return std::move(message).error();
    }
    if (message->type == protocol::MessageType::Refused) {
        return refusedError(std::get<protocol::Goodbye>(message->payload));
    }
    if (message->type != protocol::MessageType::Welcome) {
        return Error::make(Errc::BadMessage, "the writer answered Hello with message type " +
                                                 std::to_string(int(message->type)));
    }
    return message;
}

Result<std::shared_ptr<ReaderControl>> mapControl(const protocol::Welcome& welcome,
                                                  UniqueFd controlFd, UniqueFd wakeFd) {
    if (welcome.controlSize != layout::kControlBlockSize) {
        return Error::make(Errc::BadMessage,
                           "Welcome field 'controlSize' is " + std::to_string(welcome.controlSize) +
                               ", expected " + std::to_string(layout::kControlBlockSize));
    }
    if (auto sealed = memfd::checkSealed(controlFd.get(), welcome.controlSize, "control block");
        !sealed) {
        return std::move(sealed).error();
    }
    auto mapping = Mapping::map(controlFd.get(), welcome.controlSize, Mapping::Access::ReadWrite);
    if (!mapping) {
        return std::move(mapping).error();
    }
    auto leaseCount = layout::readControlBlock(mapping->data(), mapping->size());
    if (!leaseCount) {
        return std::move(leaseCount).error();
    }
    if (!WakeChannel::isListener(wakeFd.get())) {
        return Error::make(Errc::BadMessage, "the writer's wake-up fd is not an epoll instance");
    }
    auto control = std::make_shared<ReaderControl>();
    control->fd = std::move(controlFd);
    control->mapping = std::move(*mapping);
    control->block = reinterpret_cast<layout::ControlBlock*>(control->mapping.data());
    control->leaseCount = *leaseCount;
    control->wake = std::move(wakeFd);
    return control;
}

}  // namespace

Result<ReaderLink> ReaderLink::connect(const FeedPaths& paths, Mode mode,
                                       const std::string& clientName,
                                       std::shared_ptr<std::atomic<std::uint64_t>> revoked,
                                       const ReaderOptions& options) {
    auto socket = connectToWriter(paths, options);
    if (!socket) {
        if (socket.error().code == Errc::NoWriter) {
            FeedLock::removeIfStale(paths);  // a writer killed without cleaning up
        }
        return std::move(socket).error();
    }
    std::uint32_t flags = protocol::kHelloReportsProgress;
    if (mode == Mode::Sequential) {
        flags |= protocol::kHelloSequential;
    }
    flags |= (std::min(options.leases, layout::kMaxLeases) << protocol::kHelloLeaseShift) &
             protocol::kHelloLeaseMask;
    auto welcomeMessage = handshake(socket->get(), flags, clientName);
    if (!welcomeMessage) {
        return std::move(welcomeMessage).error();
    }
    const auto welcome = std::get<protocol::Welcome>(welcomeMessage->payload);
    auto& fds = welcomeMessage->fds;
    auto control = mapControl(welcome, std::move(fds[1]), std::move(fds[2]));
    if (!control) {
        return std::move(control).error();
    }
    (*control)->revoked = std::move(revoked);
    auto pool = PoolMapping::open(fds[0].get(), welcome.poolSize);
    if (!pool) {
        return std::move(pool).error();
    }
    if (pool->session() != welcome.writerSession || pool->generation() != welcome.generation) {
        return Error::make(Errc::BadPool,
                           "pool header fields 'writerSession'/'generation' do not "
                           "match the Welcome message");
    }
    ReaderLink link;
    link.socket = std::move(*socket);
    link.control = *control;
    link.pool = std::make_shared<const ReaderPool>(ReaderPool{std::move(*pool), *control});
    return link;
}

Result<std::shared_ptr<const ReaderPool>> ReaderLink::receivePool(const ReaderPool& current) const {
    auto message = protocol::receive(socket.get());
    if (!message) {
        return std::move(message).error();
    }
    if (message->type == protocol::MessageType::Goodbye) {
        const auto& goodbye = std::get<protocol::Goodbye>(message->payload);
        return Error::make(Errc::Dropped, "the writer dropped us: " +
                                              protocol::textOf(goodbye.text, sizeof(goodbye.text)));
    }
    if (message->type != protocol::MessageType::NewPool) {
        return Error::make(Errc::BadMessage, "the writer sent an unexpected message");
    }
    const auto newPool = std::get<protocol::NewPool>(message->payload);
    auto mapped = PoolMapping::open(message->fds[0].get(), newPool.poolSize);
    if (!mapped) {
        return std::move(mapped).error();
    }
    if (mapped->session() != current.pool.session() || mapped->generation() != newPool.generation) {
        return Error::make(Errc::BadPool, "new pool does not belong to this writer");
    }
    return std::make_shared<const ReaderPool>(ReaderPool{std::move(*mapped), current.control});
}

WriterInfo writerInfoOf(const ReaderPool& pool) {
    const layout::PoolDescription& description = pool.pool.description();
    return WriterInfo{static_cast<pid_t>(description.writerPid),
                      description.writerSession,
                      description.generation,
                      static_cast<WriterPolicy>(description.policy),
                      description.geometry.slotCount,
                      pool.control->leaseCount,
                      0,
                      0};
}

Result<ProbeAnswer> probeWriter(const FeedPaths& paths) {
    auto socket = connectToWriter(paths);
    if (!socket) {
        return std::move(socket).error();
    }
    auto message =
        handshake(socket->get(), protocol::kHelloProbe | protocol::kHelloReaderTable, "probe");
    if (!message) {
        return std::move(message).error();
    }
    const auto welcome = std::get<protocol::Welcome>(message->payload);
    auto header =
        PoolMapping::open(message->fds[0].get(), welcome.poolSize, PoolMapping::Extent::HeaderOnly);
    if (!header) {
        return std::move(header).error();
    }
    ProbeAnswer answer{welcome, std::move(*header), std::nullopt};
    // The table follows the Welcome at once; a writer that predates it hangs up instead.
    if (auto ready = protocol::waitReadable(socket->get(), kHandshakeTimeoutMs); !ready) {
        return std::move(ready).error();
    }
    auto table = protocol::receive(socket->get());
    if (!table) {
        if (table.error().code == Errc::WriterGone) {
            return answer;
        }
        return std::move(table).error();
    }
    if (table->type != protocol::MessageType::ReaderTable) {
        return Error::make(Errc::BadMessage, "the writer sent message type " +
                                                 std::to_string(int(table->type)) +
                                                 " after a probe's Welcome");
    }
    answer.readers = std::get<protocol::ReaderTable>(std::move(table->payload));
    return answer;
}

}  // namespace shmframe
