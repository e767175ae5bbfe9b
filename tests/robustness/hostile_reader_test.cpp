// SPDX-License-Identifier: LGPL-2.1-or-later
// Fake readers against an honest writer: garbage instead of Hello, no Hello at all, a
// flood of silent connections, a reader that never reads its socket, one that writes
// garbage into its control block or grabs more leases than its limit, one that does
// what it can with its wake-up fd. Each is refused
// or contained with a logged reason; the writer never blocks, crashes or leaks an fd,
// and an honest reader next to them goes on untouched.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class HostileReader : public RobustnessTest {};

// A reader made by hand: Hello, Welcome, the three fds mapped.
struct RawReader {
    UniqueFd socket;
    UniqueFd pool;
    UniqueFd control;
    UniqueFd wake;
    Mapping poolMapping;
    Mapping controlMapping;
    protocol::Welcome welcome{};

    layout::ControlBlock& block() {
        return *reinterpret_cast<layout::ControlBlock*>(controlMapping.data());
    }
    const layout::PoolHeader& header() const { return layout::header(poolMapping.data()); }
};

std::optional<RawReader> rawHandshake(const std::string& socketPath, std::uint32_t flags = 0,
                                      const char* name = "hostile") {
    RawReader raw;
    raw.socket = connectRaw(socketPath);
    if (!raw.socket || !sendRaw(raw.socket.get(), helloMessage(flags, name)) ||
        !protocol::waitReadable(raw.socket.get(), 5000)) {
        return std::nullopt;
    }
    auto message = protocol::receive(raw.socket.get());
    if (!message || message->type != protocol::MessageType::Welcome) {
        ADD_FAILURE() << (message ? "not a Welcome" : message.error().message);
        return std::nullopt;
    }
    raw.welcome = std::get<protocol::Welcome>(message->payload);
    raw.pool = std::move(message->fds[0]);
    raw.control = std::move(message->fds[1]);
    raw.wake = std::move(message->fds[2]);
    auto pool = Mapping::map(raw.pool.get(), raw.welcome.poolSize, Mapping::Access::ReadOnly);
    auto control =
        Mapping::map(raw.control.get(), raw.welcome.controlSize, Mapping::Access::ReadWrite);
    if (!pool || !control) {
        ADD_FAILURE() << "cannot map what the writer sent";
        return std::nullopt;
    }
    raw.poolMapping = std::move(*pool);
    raw.controlMapping = std::move(*control);
    return raw;
}

// True once the writer has closed \a socket (what it sent before is skipped).
bool closedByWriter(int socket, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd pfd{socket, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) > 0) {
            std::byte buffer[1024];
            const ssize_t got = ::recv(socket, buffer, sizeof(buffer), MSG_DONTWAIT);
            if (got == 0 || (got < 0 && errno != EAGAIN)) {
                return true;
            }
        }
    }
}

// An honest reader in this process that must keep getting intact frames.
struct HonestReader {
    Reader reader;
    std::uint64_t frames = 0;
    std::uint64_t torn = 0;

    void readFor(int count) {
        for (int i = 0; i < count; ++i) {
            auto frame = reader.next(2s);
            if (!frame) {
                ADD_FAILURE() << "the honest reader got: " << frame.error().message;
                return;
            }
            ++frames;
            if (!test::hasPattern(frame->bytes(), frame->meta().pts) && frame->leaseIntact()) {
                ++torn;
            }
        }
    }
};

HonestReader openHonest(const std::string& feed) {
    auto reader = Reader::open(feed);
    if (!reader) {
        ADD_FAILURE() << reader.error().message;
        std::abort();
    }
    return HonestReader{std::move(*reader)};
}

}  // namespace

TEST_F(HostileReader, GarbageInsteadOfAHelloIsRefusedAndHonestReadersGoOn) {
    LogCapture log;
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 1ms);
    auto honest = openHonest("feed");
    honest.readFor(20);  // the writer is done with the honest reader's handshake by now
    const int writerFds = test::countOpenFds();

    std::mt19937 random(7);
    std::vector<std::pair<std::string, std::vector<std::byte>>> cases;
    for (int i = 0; i < 10; ++i) {
        std::vector<std::byte> garbage(1 + random() % 200);
        for (auto& byte : garbage) {
            byte = static_cast<std::byte>(random());
        }
        cases.emplace_back("random bytes", garbage);
    }
    auto hello = helloMessage();
    auto oldVersion = hello;
    oldVersion[4] = std::byte{0};  // MessageHeader::version
    cases.emplace_back("another protocol version", oldVersion);
    auto truncated = hello;
    truncated.resize(30);
    cases.emplace_back("a truncated Hello", truncated);
    auto unterminated = hello;
    std::fill(unterminated.begin() + sizeof(protocol::MessageHeader) + 8, unterminated.end(),
              std::byte{'x'});
    cases.emplace_back("an unterminated client name", unterminated);
    cases.emplace_back("an oversized message", std::vector<std::byte>(8192, std::byte{1}));
    protocol::Welcome welcome{};
    cases.emplace_back("a Welcome instead of a Hello",
                       encodeMessage(protocol::MessageType::Welcome, welcome, 0));

    for (const auto& [what, bytes] : cases) {
        SCOPED_TRACE(what);
        auto socket = connectRaw(writer->socketPath());
        ASSERT_TRUE(socket);
        ASSERT_TRUE(sendRaw(socket.get(), bytes));
        EXPECT_TRUE(closedByWriter(socket.get())) << "the writer kept a peer that sent " << what;
        honest.readFor(5);
    }
    // Hello with fds attached (a reader has none to send): refused, the fds closed.
    for (int fdCount : {1, 4, 9}) {
        auto socket = connectRaw(writer->socketPath());
        ASSERT_TRUE(socket);
        UniqueFd devNull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        std::vector<int> fds(static_cast<std::size_t>(fdCount), devNull.get());
        auto withFds = hello;
        std::memcpy(withFds.data() + 12, &fdCount, sizeof(fdCount));  // MessageHeader::fdCount
        ASSERT_TRUE(sendRaw(socket.get(), withFds, fds));
        EXPECT_TRUE(closedByWriter(socket.get()));
    }
    // A peer of another version learns why.
    {
        auto socket = connectRaw(writer->socketPath());
        ASSERT_TRUE(sendRaw(socket.get(), oldVersion));
        ASSERT_TRUE(protocol::waitReadable(socket.get(), 5000));
        auto refused = protocol::receive(socket.get());
        ASSERT_TRUE(refused) << refused.error().message;
        ASSERT_EQ(refused->type, protocol::MessageType::Refused);
        const auto& goodbye = std::get<protocol::Goodbye>(refused->payload);
        EXPECT_EQ(goodbye.reason, static_cast<std::uint32_t>(protocol::Reason::VersionMismatch));
        EXPECT_NE(protocol::textOf(goodbye.text, sizeof(goodbye.text)).find("version 0"),
                  std::string::npos);
    }

    honest.readFor(20);
    EXPECT_EQ(honest.torn, 0u);
    EXPECT_EQ(publisher.error(), "");
    EXPECT_EQ(writer->stats().readers, 1u);
    EXPECT_TRUE(log.contains("sent a bad Hello")) << "the refusals were not logged";
    EXPECT_TRUE(test::waitUntil([&] { return test::countOpenFds() == writerFds; }))
        << "the writer leaked fds: " << test::countOpenFds() << " vs " << writerFds;
}

TEST_F(HostileReader, ConnectionsThatNeverSayHelloAreClosedAndDoNotStopTheFeed) {
    LogCapture log;
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 1ms);
    auto honest = openHonest("feed");
    honest.readFor(20);  // the writer is done with the honest reader's handshake by now
    const int fdsBefore = test::countOpenFds();

    // More silent connections than the writer keeps pending.
    std::vector<UniqueFd> silent;
    for (int i = 0; i < 48; ++i) {
        silent.push_back(connectRaw(writer->socketPath()));
        ASSERT_TRUE(silent.back());
    }
    honest.readFor(100);  // the feed goes on meanwhile
    for (auto& socket : silent) {
        EXPECT_TRUE(closedByWriter(socket.get())) << "a silent connection was kept open";
    }
    silent.clear();
    EXPECT_TRUE(log.contains("sent no Hello within 2 s"));
    EXPECT_TRUE(log.contains("too many connections without a Hello"));

    // And new readers get in again.
    auto late = Reader::open("feed");
    ASSERT_TRUE(late) << late.error().message;
    auto frame = late->next(2s);
    ASSERT_TRUE(frame) << frame.error().message;
    EXPECT_TRUE(test::hasPattern(frame->bytes(), frame->meta().pts));
    frame->release();
    late = Error::make(Errc::NoWriter, "closed");
    honest.readFor(20);
    EXPECT_EQ(honest.torn, 0u);
    EXPECT_EQ(publisher.error(), "");
    EXPECT_TRUE(test::waitUntil([&] { return test::countOpenFds() == fdsBefore; }))
        << test::countOpenFds() << " fds vs " << fdsBefore;
}

TEST_F(HostileReader, AFloodOfSilentConnectionsNeverKeepsAReaderThatSaysHelloOut) {
    LogCapture log;
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    Publisher publisher(*writer, 1ms);
    // Twice as many silent connections as the writer keeps waiting, all held open.
    std::vector<UniqueFd> silent;
    for (int i = 0; i < 64; ++i) {
        silent.push_back(connectRaw(writer->socketPath()));
        ASSERT_TRUE(silent.back());
    }
    // Every new reader still gets in at once: it evicts the oldest silent peer.
    for (int round = 0; round < 5; ++round) {
        silent.push_back(connectRaw(writer->socketPath()));
        auto reader = Reader::open("feed");
        ASSERT_TRUE(reader) << "round " << round << ": " << reader.error().message;
        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
    }
    EXPECT_TRUE(log.contains("too many connections without a Hello"));
    // One line per kind and interval, not one per connection.
    std::size_t floodLines = 0;
    for (const auto& line : log.lines()) {
        floodLines += line.find("too many connections without a Hello") != std::string::npos;
    }
    EXPECT_LE(floodLines, 10u);
    silent.clear();
}

TEST_F(HostileReader, AReaderThatNeverReadsItsSocketIsDroppedAndNeverBlocksTheWriter) {
    EventLog events;
    WriterOptions options;
    options.onReaderEvent = events.handler();
    const Format small = smallFormat(PixelFormat::RGBA, 16, 16);
    const Format other = smallFormat(PixelFormat::GRAY8, 16, 16);
    auto writer = Writer::create("feed", small, options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto honest = openHonest("feed");
    auto deaf = rawHandshake(writer->socketPath());
    ASSERT_TRUE(deaf);
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 2; }));

    // Each format change queues a NewPool message (with an fd) on every reader's socket.
    // The deaf reader's fills up; the writer drops it instead of waiting.
    int changes = 0;
    for (; changes < 5000 && !events.first(ReaderEvent::Kind::Dropped); ++changes) {
        ASSERT_TRUE(writer->reconfigure(changes % 2 ? small : other));
        ASSERT_TRUE(publishPattern(*writer, static_cast<std::uint64_t>(changes + 1)));
        honest.readFor(1);
    }
    auto dropped = events.first(ReaderEvent::Kind::Dropped);
    ASSERT_TRUE(dropped) << "still not dropped after " << changes << " format changes";
    EXPECT_NE(dropped->reason.find("does not read"), std::string::npos) << dropped->reason;
    EXPECT_EQ(writer->stats().readers, 1u);
    EXPECT_TRUE(closedByWriter(deaf->socket.get()));
    deaf.reset();
    for (std::uint64_t k = 1; k <= 10; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k));
        honest.readFor(1);
    }
    EXPECT_EQ(honest.torn, 0u);
    std::printf("dropped after %d format changes\n", changes);
}

TEST_F(HostileReader, LeasesBeyondTheLimitDoNotPinSlots) {
    WriterOptions options;
    options.slotCount = 4;
    options.leaseLimit = 2;
    auto writer = Writer::create("feed", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto greedy = rawHandshake(writer->socketPath());
    ASSERT_TRUE(greedy);
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 1; }));

    // After every publish, the greedy reader "leases" every frame in the pool in all 16
    // lease words; only the first two (its limit) count.
    for (std::uint64_t k = 1; k <= 500; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k));
        const std::uint64_t newest = layout::latestSequence(greedy->header().latest.load());
        for (std::uint32_t i = 0; i < layout::kMaxLeases; ++i) {
            greedy->block().leases[i].store(newest > i + 1 ? newest - i - 1 : 0);
        }
    }
    EXPECT_EQ(writer->stats().revokedLeases, 0u) << "leases past the limit pinned slots";
    EXPECT_EQ(writer->stats().published, 500u);
}

TEST_F(HostileReader, WhatAReaderWritesOfItselfChangesOnlyItsOwnRowOfTheReaderTable) {
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    auto honest = Reader::open("feed", {.clientName = "honest"});
    ASSERT_TRUE(honest) << honest.error().message;
    // It says it reports its progress, names itself with a terminal escape sequence
    // and bytes that are no UTF-8, then writes nonsense as its progress and leases.
    auto liar =
        rawHandshake(writer->socketPath(), protocol::kHelloReportsProgress, "\x1b[2J\xff\xfe liar");
    ASSERT_TRUE(liar);
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 2; }));
    for (std::uint64_t k = 1; k <= 5; ++k) {
        ASSERT_TRUE(publishPattern(*writer, k));
    }
    auto frame = honest->next(5s);
    ASSERT_TRUE(frame) << frame.error().message;
    auto& block = liar->block();
    block.delivered.store(~std::uint64_t{0});
    block.received.store(~std::uint64_t{0});
    block.missed.store(~std::uint64_t{0} - 1);
    for (auto& lease : block.leases) {
        lease.store(0x0123456789abcdefull);
    }

    auto info = probeFeed("feed");
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_EQ(info->readerTable.size(), 2u);
    for (const FeedReader& row : info->readerTable) {
        if (row.clientName == "honest") {
            EXPECT_EQ(row.lag, 0u);
            EXPECT_EQ(row.received, 1u);
            EXPECT_EQ(row.drops, 4u);
            EXPECT_EQ(row.leasesHeld, 1u);
            continue;
        }
        // Its claims are its own: never past what was published, lease words counted
        // up to what it was granted, its name printable.
        EXPECT_EQ(row.clientName, "?[2J?? liar");
        EXPECT_EQ(row.lag, 0u);
        EXPECT_EQ(row.received, ~std::uint64_t{0});
        EXPECT_EQ(row.leasesHeld, row.leaseLimit);
        EXPECT_LE(row.leaseLimit, layout::kMaxLeases);
    }
    // And the feed goes on for the honest reader.
    ASSERT_TRUE(publishPattern(*writer, 6));
    auto next = honest->next(5s);
    ASSERT_TRUE(next) << next.error().message;
    EXPECT_TRUE(test::hasPattern(next->bytes(), 6));
}

TEST_F(HostileReader, GarbageInItsControlBlockDoesNotBlockTheWriterOrTearHonestFrames) {
    for (const auto policy : {WriterPolicy::NeverBlock, WriterPolicy::Lossless}) {
        SCOPED_TRACE(std::string(toString(policy)));
        EventLog events;
        WriterOptions options;
        options.slotCount = 4;
        options.policy = policy;
        options.losslessTimeout = 200ms;
        options.onReaderEvent = events.handler();
        auto writer = Writer::create("feed", smallFormat(), options);
        ASSERT_TRUE(writer) << writer.error().message;
        auto honest = openHonest("feed");
        auto hostile = rawHandshake(writer->socketPath(), protocol::kHelloSequential);
        ASSERT_TRUE(hostile);
        ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 2; }));

        // The hostile reader writes into every word of its control block: lease words
        // chasing the newest frames, garbage progress, garbage header fields.
        std::atomic<bool> stop{false};
        std::thread scribbler([&] {
            std::mt19937_64 random(99);
            auto& block = hostile->block();
            while (!stop.load()) {
                const std::uint64_t newest =
                    layout::latestSequence(hostile->header().latest.load());
                for (std::uint32_t i = 0; i < layout::kMaxLeases; ++i) {
                    const auto dice = random() % 4;
                    block.leases[i].store(dice == 0   ? random()
                                          : dice == 1 ? newest
                                                      : (newest > i ? newest - i : 1));
                }
                // Lossless: progress stuck at 0, a reader that never reads (it must
                // be dropped). Never-block: progress that jumps around.
                block.consumed.store(policy == WriterPolicy::Lossless ? 0 : random());
                block.wantWake.store(static_cast<std::uint32_t>(random()));
                block.leaseCount = static_cast<std::uint32_t>(random());
                block.readerId = static_cast<std::uint32_t>(random());
            }
        });
        Publisher publisher(*writer, 500us);
        honest.readFor(400);
        const auto publishedMidway = writer->stats().published;
        honest.readFor(200);
        stop.store(true);
        scribbler.join();
        publisher.stop();

        EXPECT_EQ(publisher.error(), "") << "the writer failed to publish";
        EXPECT_GT(writer->stats().published, publishedMidway);
        EXPECT_EQ(honest.torn, 0u);
        if (policy == WriterPolicy::Lossless) {
            // A reader whose leases and progress make no sense holds the writer up at
            // most once: it is dropped after the timeout.
            auto dropped = events.first(ReaderEvent::Kind::Dropped);
            ASSERT_TRUE(dropped);
            EXPECT_NE(dropped->reason.find("lossless"), std::string::npos);
            EXPECT_TRUE(closedByWriter(hostile->socket.get()));
        }
    }
}

TEST_F(HostileReader, AReaderTalkingAfterItsHelloIsDropped) {
    EventLog events;
    WriterOptions options;
    options.onReaderEvent = events.handler();
    options.maxReaders = 2;
    auto writer = Writer::create("feed", smallFormat(), options);
    ASSERT_TRUE(writer) << writer.error().message;
    auto chatty = rawHandshake(writer->socketPath());
    ASSERT_TRUE(chatty);
    ASSERT_TRUE(sendRaw(chatty->socket.get(), helloMessage()));
    EXPECT_TRUE(closedByWriter(chatty->socket.get()));
    EXPECT_TRUE(
        test::waitUntil([&] { return events.first(ReaderEvent::Kind::Dropped).has_value(); }));
    auto dropped = events.first(ReaderEvent::Kind::Dropped);
    ASSERT_TRUE(dropped);
    EXPECT_NE(dropped->reason.find("unexpected message"), std::string::npos) << dropped->reason;

    // Past maxReaders a reader is refused with the reason, not left hanging.
    auto first = Reader::open("feed");
    auto second = Reader::open("feed");
    ASSERT_TRUE(first && second);
    auto third = Reader::open("feed");
    ASSERT_FALSE(third);
    EXPECT_NE(third.error().message.find("already has 2 readers"), std::string::npos)
        << third.error().message;
}

namespace {

// What a hostile reader can do with the wake-up fd it was given (an epoll instance
// watching the writer's eventfd), all at once and for ever: watch fds of its own in it
// (one always readable), nest it in other epoll sets, wait on it from several threads
// (taking its edge-triggered wake-ups), poll() it, and ask for a wake-up before every
// wait. Runs in a child process until killed.
int abuseWakeFd(const std::string& socketPath) {
    auto raw = rawHandshake(socketPath);
    if (!raw) {
        return 1;
    }
    const int wake = raw->wake.get();
    UniqueFd alwaysReadable(::eventfd(1, EFD_CLOEXEC));
    epoll_event watch{};
    watch.events = EPOLLIN;
    ::epoll_ctl(wake, EPOLL_CTL_ADD, alwaysReadable.get(), &watch);
    std::vector<UniqueFd> nests;
    for (int i = 0; i < 16; ++i) {
        nests.emplace_back(::epoll_create1(EPOLL_CLOEXEC));
        watch.events = i % 2 ? EPOLLIN | EPOLLET : EPOLLIN;
        ::epoll_ctl(nests.back().get(), EPOLL_CTL_ADD, wake, &watch);
    }
    auto& wantWake = raw->block().wantWake;
    std::vector<std::thread> waiters;
    for (int i = 0; i < 3; ++i) {
        waiters.emplace_back([&, i] {
            for (;;) {
                wantWake.store(1);
                epoll_event events[8];
                const int on = i == 0 ? wake : nests[static_cast<std::size_t>(i)].get();
                ::epoll_wait(on, events, 8, 5);
                pollfd pfd{wake, POLLIN, 0};
                ::poll(&pfd, 1, 1);
            }
        });
    }
    for (;;) {
        // Remove and add its own fd again, over and over.
        ::epoll_ctl(wake, EPOLL_CTL_DEL, alwaysReadable.get(), nullptr);
        watch.events = EPOLLIN | EPOLLET;
        ::epoll_ctl(wake, EPOLL_CTL_ADD, alwaysReadable.get(), &watch);
        wantWake.store(1);
    }
}

// A reader that asks for every wake-up and closes its wake-up fd at once.
int closeWakeFd(const std::string& socketPath) {
    auto raw = rawHandshake(socketPath);
    if (!raw) {
        return 1;
    }
    raw->wake.reset();
    for (;;) {
        raw->block().wantWake.store(1);
        ::usleep(100);
    }
}

}  // namespace

TEST_F(HostileReader, WhatAReaderDoesWithItsWakeUpFdStallsNeitherTheWriterNorOtherReaders) {
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    const std::string path = writer->socketPath();
    // Forked before this process has threads of its own (but the writer's service).
    test::Child abuser = test::Child::fork([&] { return abuseWakeFd(path); });
    test::Child closer = test::Child::fork([&] { return closeWakeFd(path); });
    // One more in this process: asks for every wake-up and never looks at its fd.
    auto ignorer = rawHandshake(path);
    ASSERT_TRUE(ignorer);
    std::vector<HonestReader> honest;
    for (int i = 0; i < 3; ++i) {
        honest.push_back(openHonest("feed"));
    }
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 6; }));
    std::atomic<bool> stop{false};
    std::thread asker([&] {
        while (!stop.load()) {
            ignorer->block().wantWake.store(1);
            std::this_thread::sleep_for(100us);
        }
    });
    Publisher publisher(*writer, 1ms);
    // Blocking honest readers sleep between frames: each frame needs its wake-up.
    auto readAll = [&](int frames) {
        for (auto& reader : honest) {
            reader.readFor(frames);
        }
    };
    readAll(100);
    abuser.signal(SIGSTOP);
    ASSERT_TRUE(test::waitUntil([&] { return abuser.stopped(); }));
    readAll(100);
    abuser.signal(SIGCONT);
    readAll(100);
    abuser.kill();
    closer.kill();
    ASSERT_TRUE(test::waitUntil([&] { return writer->stats().readers == 4; }));
    readAll(100);
    stop.store(true);
    asker.join();
    publisher.stop();
    EXPECT_EQ(publisher.error(), "");
    for (const auto& reader : honest) {
        EXPECT_EQ(reader.frames, 400u);
        EXPECT_EQ(reader.torn, 0u);
    }
}

TEST_F(HostileReader, AReaderThatUsesUpTheKernelsEpollNestingLimitCannotKeepNewReadersOut) {
    LogCapture log;
    auto writer = Writer::create("feed", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    const std::string path = writer->socketPath();
    int ends[2];
    ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
    UniqueFd doneReadEnd(ends[0]);
    UniqueFd doneWriteEnd(ends[1]);
    // It nests its wake-up listener in epoll sets of its own until the kernel says no
    // (EINVAL: at most 500 sets one level above one eventfd's listeners), then waits.
    test::Child hog = test::Child::fork([&] {
        doneReadEnd.reset();
        rlimit files{};
        ::getrlimit(RLIMIT_NOFILE, &files);
        files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
        ::setrlimit(RLIMIT_NOFILE, &files);
        auto raw = rawHandshake(path);
        if (!raw) {
            return 1;
        }
        std::vector<UniqueFd> nests;
        for (int i = 0; i < 2000; ++i) {
            UniqueFd nest(::epoll_create1(EPOLL_CLOEXEC));
            epoll_event watch{};
            watch.events = EPOLLIN;
            if (::epoll_ctl(nest.get(), EPOLL_CTL_ADD, raw->wake.get(), &watch) != 0) {
                break;
            }
            nests.push_back(std::move(nest));
        }
        const char count = nests.size() >= 400 ? 'y' : 'n';
        [[maybe_unused]] auto told = ::write(doneWriteEnd.get(), &count, 1);
        for (;;) {
            ::pause();
        }
    });
    doneWriteEnd.reset();
    char used = 0;
    pollfd done{doneReadEnd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&done, 1, 30000), 1);
    ASSERT_EQ(::read(doneReadEnd.get(), &used, 1), 1);
    ASSERT_EQ(used, 'y') << "the hostile reader could not nest its listener 400 times";

    // A reader that comes now cannot nest its own listener: it connects all the same,
    // says why, and takes frames on a timer, blocking or from an event loop.
    Publisher publisher(*writer, 1ms);
    auto late = openHonest("feed");
    late.readFor(50);
    EXPECT_TRUE(log.contains("cannot watch the writer's wake-up fd")) << "no warning logged";
    for (int i = 0; i < 20; ++i) {
        auto armed = late.reader.tryNext();  // take what is there, then arm
        while (armed) {
            armed = late.reader.tryNext();
        }
        ASSERT_EQ(armed.error().code, Errc::WouldBlock);
        pollfd pfd{late.reader.fd(), POLLIN, 0};
        ASSERT_EQ(::poll(&pfd, 1, 10000), 1);
    }
    hog.kill();
    publisher.stop();
    EXPECT_EQ(publisher.error(), "");
    EXPECT_EQ(late.torn, 0u);
}
