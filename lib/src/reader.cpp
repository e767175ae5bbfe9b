// SPDX-License-Identifier: LGPL-2.1-or-later
// The reader: composes its link to the writer (socket and control block), the cursor
// that takes frames out of the pool, and the reconnect watch that finds a writer
// again; sleeps on one epoll fd that also serves event loops. This file holds the
// public Reader: the connection's life, the messages on the socket, and waiting.
#include "shmframe/reader.h"

#include <unistd.h>

#include <atomic>

#include "event_set.h"
#include "feed_paths.h"
#include "frame_cursor.h"
#include "pool_layout.h"
#include "reader_link.h"
#include "reconnect_watch.h"
#include "shmframe/log.h"
#include "wait_pacer.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SHMFRAME_CPU_RELAX() _mm_pause()
#else
#define SHMFRAME_CPU_RELAX() std::atomic_signal_fence(std::memory_order_seq_cst)
#endif

namespace shmframe {
namespace {

constexpr std::uint64_t kSpinEventCheckNs = 200'000;   // spin mode looks at the socket this often
constexpr std::uint64_t kUnwatchedTickNs = 5'000'000;  // without wake-ups, we look this often

}  // namespace

// --- Reader ----------------------------------------------------------------------

struct Reader::Impl {
    Impl(FeedPaths feedPaths, ReaderOptions readerOptions, std::unique_ptr<EventSet> eventSet,
         ReconnectWatch watch)
        : paths(std::move(feedPaths)),
          options(std::move(readerOptions)),
          events(std::move(eventSet)),
          reconnect(std::move(watch)),
          cursor(paths.name, options.mode) {
        [[maybe_unused]] auto dir = events->add(reconnect.dirFd(), EventSet::Source::DirWatch);
        [[maybe_unused]] auto timer =
            events->add(reconnect.timerFd(), EventSet::Source::RetryTimer);
    }

    FeedPaths paths;
    ReaderOptions options;
    std::unique_ptr<EventSet> events;  // fd()
    ReconnectWatch reconnect;
    FrameCursor cursor;
    WaitPacer pacer;  // WaitMode::Paced only

    std::optional<ReaderLink> link;  // while a writer serves us
    bool everConnected = false;
    ReaderState state = ReaderState::WaitingForWriter;
    std::uint64_t reconnects = 0;
    std::uint64_t writerGone = 0;
    std::shared_ptr<std::atomic<std::uint64_t>> revoked =
        std::make_shared<std::atomic<std::uint64_t>>(0);

    Result<void> connect();
    void disconnect();
    Error lostWriter(Error why);

    // One look at everything; returns a frame, an event (as Error), or WouldBlock.
    enum class Events { Check, Skip };
    Result<Frame> step(Events look);
    Result<Frame> deliver();
    Result<Frame> handleEvents(const EventSet::Ready& ready, bool retired);
    Result<Frame> handleSocket();
    Result<Frame> nap(std::uint64_t untilNs);
};

Result<void> Reader::Impl::connect() {
    const auto mode = options.mode == ReadMode::Sequential ? ReaderLink::Mode::Sequential
                                                           : ReaderLink::Mode::Latest;
    auto connected = ReaderLink::connect(paths, mode, options.clientName, revoked, options);
    if (!connected) {
        return std::move(connected).error();
    }
    // The kernel may refuse to nest the writer's listener (EINVAL): the wake-ups of one
    // file may pass through at most 500 nested epoll sets, every reader's of our uid
    // counted (the writer has news per reader uid), and a hostile reader of our uid can
    // take them all. Then we look for frames on a timer instead.
    if (auto watched = events->add(connected->control->wake.get(), EventSet::Source::Wake);
        !watched) {
        log(LogLevel::Warning,
            "feed '" + paths.name + "': cannot watch the writer's wake-up fd (" +
                watched.error().message +
                "; the kernel lets one writer's wake-ups reach at most 500 nested epoll "
                "sets per reader uid): looking for new frames every " +
                std::to_string(kUnwatchedTickNs / 1'000'000) + " ms instead");
        events->tickEvery(kUnwatchedTickNs);
    }
    reconnect.stop();
    link = std::move(*connected);
    [[maybe_unused]] auto socket = events->add(link->socket.get(), EventSet::Source::Socket);
    cursor.start(std::move(link->pool));
    state = ReaderState::Connected;
    if (everConnected) {
        ++reconnects;
    }
    everConnected = true;
    const layout::PoolDescription& description = cursor.pool()->pool.description();
    log(LogLevel::Info, "feed '" + paths.name + "': connected to writer pid " +
                            std::to_string(description.writerPid) + ", " +
                            description.format.describe());
    return {};
}

void Reader::Impl::disconnect() {
    if (link) {
        events->remove(link->socket.get());
        events->remove(link->control->wake.get());
        events->tickEvery(0);
    }
    link.reset();  // frames still out keep their pool and control block mapped
    cursor.stop();
    state = ReaderState::WaitingForWriter;
    if (options.reconnect) {
        reconnect.start(ReconnectWatch::Attempt::Now);
    }
}

// Lets go of the writer, for \a why.
Error Reader::Impl::lostWriter(Error why) {
    disconnect();
    ++writerGone;
    return why;
}

// What the writer said on the socket: new pools are taken in, the rest ends the link.
Result<Frame> Reader::Impl::handleSocket() {
    for (;;) {
        auto next = link->receivePool(*cursor.pool());
        if (next) {
            cursor.follow(std::move(*next));
            continue;
        }
        const Error error = std::move(next).error();
        if (error.code == Errc::WouldBlock) {
            return error;
        }
        if (error.code == Errc::WriterGone) {
            // The writer's last frames and its end of stream came before its hang-up,
            // but we may see the hang-up first (woken by both, or the pool looked at
            // just before the writer's last publish): the pool, frozen now, goes first.
            // The hang-up stays readable for the call after.
            if (auto last = deliver(); last || last.error().code != Errc::WouldBlock) {
                return last;
            }
            return lostWriter(Error::make(
                Errc::WriterGone, "the writer of feed '" + paths.name + "' is gone" +
                                      (options.reconnect ? "; waiting for it to come back" : "")));
        }
        if (error.code != Errc::Dropped) {
            log(LogLevel::Warning, "feed '" + paths.name + "': " + error.message);
        }
        return lostWriter(error);
    }
}

Result<Frame> Reader::Impl::step(Events look) {
    if (!cursor.started()) {
        // Waiting for a writer: try when the feed dir says something happened.
        const bool due = reconnect.due();
        if (!options.reconnect && everConnected) {
            return Error::make(Errc::NoWriter, "no writer for feed '" + paths.name + "'");
        }
        if (!due) {
            return Error::make(Errc::WouldBlock, "waiting for a writer");
        }
        if (auto connected = connect(); !connected) {
            reconnect.failed();
            if (connected.error().code == Errc::NoWriter) {
                return Error::make(Errc::WouldBlock, "waiting for a writer");
            }
            return std::move(connected).error();  // a broken writer: say so, keep waiting
        }
    }
    if (auto delivered = deliver(); delivered || delivered.error().code != Errc::WouldBlock) {
        return delivered;
    }
    const bool retired = cursor.retired();
    if (look == Events::Check || retired) {
        return handleEvents(events->wait(0), retired);
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

// What the pool has for us: the next frame, else the end of stream once every frame
// before it was delivered, else WouldBlock.
Result<Frame> Reader::Impl::deliver() {
    auto delivered = cursor.deliver();
    if (delivered) {
        state = ReaderState::Connected;
        if (options.wait == WaitMode::Paced) {
            pacer.frameDelivered(delivered->meta().sequence, delivered->meta().publishTimeNs,
                                 delivered->format().frameRate, monotonicNs());
        }
    } else if (delivered.error().code == Errc::EndOfStream) {
        state = ReaderState::EndOfStream;
    } else if (delivered.error().code != Errc::WouldBlock) {
        log(LogLevel::Warning, "feed '" + paths.name + "': " + delivered.error().message);
        return lostWriter(std::move(delivered).error());
    }
    return delivered;
}

Result<Frame> Reader::Impl::handleEvents(const EventSet::Ready& ready, bool retired) {
    // A wake-up (ready.woken) or a tick needs nothing more: epoll_wait took it (edge-
    // triggered), and the caller looks at the pool next.
    if (ready.dirWatch) {
        reconnect.dirReadable();
    }
    if (ready.retryTimer) {
        reconnect.timerExpired();
    }
    if (ready.interrupted) {
        return Error::make(Errc::Interrupted, "interrupted");
    }
    const bool socketReady = ready.socket || retired;
    if (socketReady && link) {
        auto outcome = handleSocket();
        if (outcome || outcome.error().code != Errc::WouldBlock) {
            return outcome;
        }
        if (cursor.hasPendingPool()) {
            return step(Events::Skip);
        }
    }
    return Error::make(Errc::WouldBlock, "no new frame");
}

// Paced mode: sleeps until \a untilNs, when the next frame is nearly due, unless the
// writer wakes us first for a frame (or the socket, or interrupt()).
Result<Frame> Reader::Impl::nap(std::uint64_t untilNs) {
    auto& wantWake = link->control->block->wantWake;
    wantWake.store(1, std::memory_order_seq_cst);
    if (cursor.hasNews()) {
        wantWake.store(0, std::memory_order_relaxed);
        return Error::make(Errc::WouldBlock, "no new frame");
    }
    if (waitReadableUntil(events->fd(), untilNs)) {
        return handleEvents(events->wait(0), false);
    }
    // We spin next: a wake-up would only cost the writer a write.
    wantWake.store(0, std::memory_order_relaxed);
    pacer.napEnded(untilNs, monotonicNs());
    return Error::make(Errc::WouldBlock, "no new frame");
}

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Result<Reader> Reader::open(std::string_view feed, ReaderOptions options) {
    auto paths = resolveFeed(feed, options.waitForWriter ? FeedDir::Create : FeedDir::DoNotCreate);
    if (!paths) {
        return std::move(paths).error();
    }
    auto watch = ReconnectWatch::create(*paths);
    if (!watch) {
        return std::move(watch).error();
    }
    auto events = EventSet::create();
    if (!events) {
        return std::move(events).error();
    }
    auto impl = std::make_unique<Impl>(std::move(*paths), std::move(options), std::move(*events),
                                       std::move(*watch));
    // Watch before the first attempt, so that a writer appearing in between is not missed.
    if (impl->options.waitForWriter) {
        impl->reconnect.start(ReconnectWatch::Attempt::Later);
    }
    if (auto connected = impl->connect(); !connected) {
        if (!impl->options.waitForWriter || connected.error().code != Errc::NoWriter) {
            return std::move(connected).error();
        }
    }
    return Reader(std::move(impl));
}

Result<Frame> Reader::next(std::chrono::nanoseconds timeout) {
    if (!impl_) {
        return Error::make(Errc::InvalidArgument, "next() on a moved-from Reader");
    }
    Impl& impl = *impl_;
    const std::uint64_t start = monotonicNs();
    const std::uint64_t deadline =
        timeout.count() <= 0 ? start : start + static_cast<std::uint64_t>(timeout.count());
    const bool spin = impl.options.wait == WaitMode::Spin;
    const bool paced = impl.options.wait == WaitMode::Paced;
    bool pacedSpin = false;  // paced mode, in a spin window
    std::uint64_t lastEventCheck = start;
    int busyRetries = 0;
    // A blocking call needs no look at the events first: epoll_wait below returns at
    // once if any is pending. That keeps a sleeping reader at one syscall per frame:
    // the epoll_wait that a wake-up ends.
    bool checkEvents = timeout.count() <= 0;
    for (;;) {
        const std::uint64_t now = monotonicNs();
        if ((spin || pacedSpin) && now - lastEventCheck >= kSpinEventCheckNs) {
            checkEvents = true;
        }
        if (checkEvents) {
            lastEventCheck = now;
        }
        auto outcome = impl.step(checkEvents || !impl.cursor.started() ? Impl::Events::Check
                                                                       : Impl::Events::Skip);
        checkEvents = false;
        if (outcome || outcome.error().code != Errc::WouldBlock) {
            return outcome;
        }
        if (now >= deadline) {
            // Ask the writer to wake our fd; if news slipped in meanwhile, make the fd
            // readable ourselves so an event loop comes straight back.
            if (impl.link) {
                impl.link->control->block->wantWake.store(1, std::memory_order_seq_cst);
                if (impl.cursor.hasNews()) {
                    impl.events->poke();
                }
            }
            return timeout.count() <= 0 ? Error::make(Errc::WouldBlock, "no new frame")
                                        : Error::make(Errc::Timeout, "no frame within the timeout");
        }
        if (spin && impl.cursor.started()) {
            SHMFRAME_CPU_RELAX();
            continue;
        }
        if (paced && impl.cursor.started()) {
            // The pacer's hook (wait_pacer.h): nap until the frame is nearly due, then
            // spin for it; its Block advice, and news that step() could not take,
            // fall through to the sleep below.
            const WaitPacer::Advice advice = impl.pacer.advise(now, deadline);
            pacedSpin = advice.action == WaitPacer::Action::Spin;
            if (pacedSpin) {
                SHMFRAME_CPU_RELAX();
                continue;
            }
            if (advice.action == WaitPacer::Action::Nap && !impl.cursor.hasNews()) {
                auto napped = impl.nap(advice.untilNs);
                if (napped || napped.error().code != Errc::WouldBlock) {
                    return napped;
                }
                continue;
            }
        }
        // Sleep: ask the writer to wake us, then look once more before sleeping. A
        // writer whose header keeps promising news that step() cannot take does not
        // get to make us spin: after a few tries we sleep a little anyway.
        std::uint64_t waitNs = deadline - now;
        if (impl.link) {
            auto& wantWake = impl.link->control->block->wantWake;
            wantWake.store(1, std::memory_order_seq_cst);
            if (impl.cursor.hasNews()) {
                wantWake.store(0, std::memory_order_relaxed);
                if (++busyRetries < 4) {
                    continue;
                }
                waitNs = std::min<std::uint64_t>(waitNs, 1'000'000);
            }
        }
        if (const auto retry = impl.reconnect.nextRetryInNs(); retry && !impl.cursor.started()) {
            waitNs = std::min(waitNs, *retry);
        }
        const int waitMs =
            static_cast<int>(std::min<std::uint64_t>(waitNs / 1'000'000 + 1, INT32_MAX));
        auto happened = impl.handleEvents(impl.events->wait(waitMs), false);
        if (happened || happened.error().code != Errc::WouldBlock) {
            return happened;
        }
    }
}

void Reader::interrupt() {
    if (impl_) {
        impl_->events->interrupt();
    }
}

int Reader::fd() const {
    return impl_ ? impl_->events->fd() : -1;
}
ReaderState Reader::state() const {
    return impl_->state;
}

std::optional<Format> Reader::format() const {
    if (!impl_->cursor.started()) {
        return std::nullopt;
    }
    return impl_->cursor.pool()->pool.format();
}

ReaderStats Reader::stats() const {
    ReaderStats stats = impl_->cursor.stats();
    stats.pacedHits = impl_->pacer.counters().hits;
    stats.pacedMisses = impl_->pacer.counters().misses;
    stats.reconnects = impl_->reconnects;
    stats.writerGone = impl_->writerGone;
    stats.revoked = impl_->revoked->load(std::memory_order_relaxed);
    return stats;
}

std::optional<WriterInfo> Reader::writer() const {
    if (!impl_->cursor.started()) {
        return std::nullopt;
    }
    WriterInfo info = writerInfoOf(*impl_->cursor.pool());
    const layout::PoolHeader& header = impl_->cursor.pool()->pool.header();
    info.published = header.published.load(std::memory_order_relaxed);
    info.readers = header.readers.load(std::memory_order_relaxed);
    return info;
}

const std::string& Reader::feedName() const {
    return impl_->paths.name;
}
const std::string& Reader::socketPath() const {
    return impl_->paths.socket;
}
const std::string& Reader::directory() const {
    return impl_->paths.dir;
}

}  // namespace shmframe
