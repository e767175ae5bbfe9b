// SPDX-License-Identifier: LGPL-2.1-or-later
// Fake writers: a raw SOCK_SEQPACKET socket at the feed's path, in another process,
// answering a reader's Hello with something broken. Each is refused with an error that
// names what is wrong; the reader never crashes, hangs or leaks an fd, and it goes on
// to an honest writer afterwards.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <poll.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include "memfd.h"
#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class HostileWriter : public RobustnessTest {
  protected:
    std::string socketPath() const { return dir_.path() + "/evil.sock"; }

    // Runs \a serve as the fake writer of feed "evil" and opens a reader against it.
    Result<Reader> openAgainst(std::function<void(int)> serve, int backlog = 16,
                               bool accept = true) {
        FakeWriter fake(socketPath(), std::move(serve), backlog, accept);
        return Reader::open("evil");
    }

    // The reader's error: its code, and a message naming \a field.
    void expectRefused(const Result<Reader>& reader, Errc code, const std::string& field) {
        ASSERT_FALSE(reader) << "a broken writer was accepted";
        EXPECT_EQ(reader.error().code, code)
            << toString(reader.error().code) << ": " << reader.error().message;
        EXPECT_NE(reader.error().message.find(field), std::string::npos)
            << "the error does not name '" << field << "': " << reader.error().message;
    }

    // After a fake writer, an honest one on the same feed is read as usual.
    void expectHonestWriterWorks() {
        auto writer = Writer::create("evil", smallFormat());
        ASSERT_TRUE(writer) << writer.error().message;
        auto reader = Reader::open("evil");
        ASSERT_TRUE(reader) << reader.error().message;
        ASSERT_TRUE(publishPattern(*writer, 9));
        auto frame = reader->next(5s);
        ASSERT_TRUE(frame) << frame.error().message;
        EXPECT_TRUE(test::hasPattern(frame->bytes(), 9));
    }
};

// Answers the Hello with \a parts' Welcome and fds, then waits for the hang-up.
void sendWelcome(int connection, HonestParts& parts, std::vector<int> fds = {}) {
    if (!receiveHello(connection)) {
        return;
    }
    if (fds.empty()) {
        fds = {parts.pool.get(), parts.control.get(), parts.wakeReader.get()};
    }
    auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, fds.size());
    sendRaw(connection, message, fds);
    waitForHangUp(connection);
}

// A fake writer that sends an honest Welcome with the pool made by \a make.
std::function<void(int)> welcomeWith(std::function<HonestParts()> make,
                                     std::function<void(HonestParts&)> spoil = {}) {
    return [make = std::move(make), spoil = std::move(spoil)](int connection) {
        HonestParts parts = make();
        if (spoil) {
            spoil(parts);
        }
        sendWelcome(connection, parts);
    };
}

HonestParts honest() {
    return makeHonestParts(smallFormat());
}

}  // namespace

TEST_F(HostileWriter, AnUnsealedPoolIsRefusedNamingTheSeals) {
    auto reader = openAgainst(welcomeWith([] { return makeHonestParts(smallFormat(), 4, false); }));
    expectRefused(reader, Errc::BadPool, "F_SEAL_SHRINK");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, APoolSmallerThanTheWelcomeClaimsIsRefused) {
    auto reader = openAgainst(welcomeWith(honest, [](HonestParts& parts) {
        parts.welcome.poolSize += 1 << 20;  // the memfd is 1 MiB smaller than claimed
    }));
    expectRefused(reader, Errc::BadPool, "bytes but its header says");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, APoolSmallerThanItsHeaderClaimsIsRefused) {
    auto reader = openAgainst(welcomeWith([] {
        return makeHonestParts(smallFormat(), 4, true,
                               [](layout::PoolHeader& header) { header.poolSize *= 2; });
    }));
    expectRefused(reader, Errc::BadPool, "poolSize");
}

TEST_F(HostileWriter, ASparsePoolIsRefusedBeforeTheReaderMapsIt) {
    // A huge pool that is mostly holes would make the reader allocate all of it when it
    // maps the pool (MAP_POPULATE): an honest writer allocates its pool itself.
    auto reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        constexpr std::size_t kHuge = std::size_t{64} << 30;  // 64 GiB, nothing allocated
        UniqueFd sparse(::memfd_create("shmframe:sparse", MFD_CLOEXEC | MFD_ALLOW_SEALING));
        if (::ftruncate(sparse.get(), kHuge) != 0 || !memfd::seal(sparse.get())) {
            return;
        }
        parts.welcome.poolSize = kHuge;
        sendWelcome(connection, parts, {sparse.get(), parts.control.get(), parts.wakeReader.get()});
    });
    expectRefused(reader, Errc::BadPool, "allocated");
}

TEST_F(HostileWriter, HeaderOffsetsPastTheEndOfThePoolAreRefused) {
    const std::vector<std::pair<std::string, std::function<void(layout::PoolHeader&)>>> cases = {
        {"slotDataOffset", [](layout::PoolHeader& h) { h.slotDataOffset = h.poolSize; }},
        {"slotDataOffset", [](layout::PoolHeader& h) { h.slotDataStride = ~std::uint64_t{0} / 2; }},
        {"slotTableOffset", [](layout::PoolHeader& h) { h.slotTableOffset = h.poolSize - 64; }},
        {"userMetaOffset", [](layout::PoolHeader& h) { h.userMetaOffset = ~std::uint64_t{0} - 8; }},
        {"format", [](layout::PoolHeader& h) { h.format.planes[0].offset = 1u << 30; }},
        {"slotDataStride", [](layout::PoolHeader& h) { h.format.frameSize = h.poolSize * 2; }},
        {"format.capsLength", [](layout::PoolHeader& h) { h.format.capsLength = 5000; }},
        {"format.planeCount", [](layout::PoolHeader& h) { h.format.planeCount = 9; }},
        {"caps",
         [](layout::PoolHeader& h) {
             std::memcpy(h.format.caps, "video\0raw", 10);
             h.format.capsLength = 9;
         }},
        {"headerSize", [](layout::PoolHeader& h) { h.headerSize = 12; }},
        {"magic", [](layout::PoolHeader& h) { h.magic = 0x1234; }},
    };
    for (const auto& [field, spoil] : cases) {
        SCOPED_TRACE(field);
        auto reader = openAgainst(welcomeWith(
            [spoil = spoil] { return makeHonestParts(smallFormat(), 4, true, spoil); }));
        ASSERT_FALSE(reader);
        EXPECT_EQ(reader.error().code, Errc::BadPool) << reader.error().message;
        EXPECT_NE(reader.error().message.find(field), std::string::npos) << reader.error().message;
    }
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, AnAbsurdSlotCountIsRefused) {
    auto reader = openAgainst(welcomeWith([] {
        return makeHonestParts(smallFormat(), 4, true,
                               [](layout::PoolHeader& header) { header.slotCount = 1000; });
    }));
    expectRefused(reader, Errc::BadPool, "slotCount");
    reader = openAgainst(welcomeWith([] {
        return makeHonestParts(smallFormat(), 4, true,
                               [](layout::PoolHeader& header) { header.leaseLimit = 100000; });
    }));
    expectRefused(reader, Errc::BadPool, "leaseLimit");
}

TEST_F(HostileWriter, AnotherProtocolVersionIsRefusedNamingBothVersions) {
    auto reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, 3);
        message[4] = std::byte{7};  // MessageHeader::version
        if (receiveHello(connection)) {
            sendRaw(connection, message,
                    {parts.pool.get(), parts.control.get(), parts.wakeReader.get()});
            waitForHangUp(connection);
        }
    });
    expectRefused(reader, Errc::ProtocolMismatch, "version 7");
    // Another pool layout version is refused the same way.
    reader = openAgainst(welcomeWith([] {
        return makeHonestParts(smallFormat(), 4, true,
                               [](layout::PoolHeader& header) { header.layoutVersion = 99; });
    }));
    expectRefused(reader, Errc::ProtocolMismatch, "layoutVersion");
}

TEST_F(HostileWriter, GarbageBytesAreRefused) {
    std::mt19937 random(1234);
    for (int round = 0; round < 20; ++round) {
        const std::size_t size = 1 + random() % 300;
        std::vector<std::byte> garbage(size);
        for (auto& byte : garbage) {
            byte = static_cast<std::byte>(random());
        }
        auto reader = openAgainst([&garbage](int connection) {
            if (receiveHello(connection)) {
                sendRaw(connection, garbage);
                waitForHangUp(connection);
            }
        });
        ASSERT_FALSE(reader);
        EXPECT_TRUE(reader.error().code == Errc::ProtocolMismatch ||
                    reader.error().code == Errc::BadMessage)
            << reader.error().message;
    }
    // An oversized message (one byte more than the largest, a full reader table) is
    // refused as such.
    auto reader = openAgainst([](int connection) {
        if (receiveHello(connection)) {
            sendRaw(connection,
                    std::vector<std::byte>(protocol::kMaxMessageSize + 1, std::byte{0x53}));
            waitForHangUp(connection);
        }
    });
    expectRefused(reader, Errc::BadMessage, "larger than any protocol message");
}

TEST_F(HostileWriter, MessagesWithTheWrongFdsAreRefusedAndTheFdsClosed) {
    // Too many fds for the kernel to deliver to us (the rest are dropped on the way).
    auto reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        std::vector<int> fds(8, parts.pool.get());
        auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, fds.size());
        if (receiveHello(connection)) {
            sendRaw(connection, message, fds);
            waitForHangUp(connection);
        }
    });
    expectRefused(reader, Errc::BadMessage, "fds");
    // Four fds that the header admits: one too many for a Welcome.
    reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        sendWelcome(
            connection, parts,
            {parts.pool.get(), parts.control.get(), parts.wakeReader.get(), parts.pool.get()});
    });
    expectRefused(reader, Errc::BadMessage, "came with 4 fds, expected 3");
    // The right count in the header, but fewer fds attached.
    reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, 3);
        if (receiveHello(connection)) {
            sendRaw(connection, message, {parts.pool.get()});
            waitForHangUp(connection);
        }
    });
    expectRefused(reader, Errc::BadMessage, "fdCount");
    // The fds in the wrong order: the wake-up listener where the pool belongs.
    reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        sendWelcome(connection, parts,
                    {parts.wakeReader.get(), parts.control.get(), parts.wakeReader.get()});
    });
    expectRefused(reader, Errc::BadPool, "pool fd is not a sealable memfd");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, AWakeUpFdThatIsNotAnEpollInstanceIsRefused) {
    auto reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        // Where the wake-up listener belongs, the eventfd it watches: a reader that
        // took it could fill its counter or clear its O_NONBLOCK, so it is refused.
        sendWelcome(connection, parts,
                    {parts.pool.get(), parts.control.get(), parts.wakeWriter.get()});
    });
    expectRefused(reader, Errc::BadMessage, "wake-up fd is not an epoll instance");
    // A pipe's read end there (the wake-up fd of protocol version 1).
    reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC) != 0) {
            return;
        }
        UniqueFd mine(ends[1]);
        UniqueFd theirs(ends[0]);
        sendWelcome(connection, parts, {parts.pool.get(), parts.control.get(), theirs.get()});
    });
    expectRefused(reader, Errc::BadMessage, "wake-up fd is not an epoll instance");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, BrokenControlBlocksAreRefused) {
    auto reader = openAgainst(
        welcomeWith(honest, [](HonestParts& parts) { parts.block().leaseCount = 1000; }));
    expectRefused(reader, Errc::BadPool, "leaseCount");
    reader = openAgainst(welcomeWith(honest, [](HonestParts& parts) { parts.block().magic = 0; }));
    expectRefused(reader, Errc::BadPool, "magic");
    reader = openAgainst(
        welcomeWith(honest, [](HonestParts& parts) { parts.welcome.controlSize = 1u << 30; }));
    expectRefused(reader, Errc::BadMessage, "controlSize");
    reader = openAgainst(welcomeWith(honest, [](HonestParts& parts) {
        parts.control = makeMemfd("shmframe-reader", layout::kControlBlockSize, false);
    }));
    expectRefused(reader, Errc::BadPool, "control block fd lacks the seals");
    reader = openAgainst(welcomeWith(honest, [](HonestParts& parts) {
        parts.welcome.writerSession ^= 1;  // not the pool's writer
    }));
    expectRefused(reader, Errc::BadPool, "writerSession");
}

TEST_F(HostileWriter, AWriterThatHangsUpMidHandshakeIsReported) {
    auto reader = openAgainst([](int connection) { receiveHello(connection); });
    expectRefused(reader, Errc::NoWriter, "hung up during the handshake");
    reader = openAgainst([](int) {});  // hangs up before the Hello
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::NoWriter) << reader.error().message;
    // Half a Welcome: its header without the payload.
    reader = openAgainst([](int connection) {
        HonestParts parts = honest();
        auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, 0);
        message.resize(sizeof(protocol::MessageHeader));
        if (receiveHello(connection)) {
            sendRaw(connection, message);
        }
    });
    expectRefused(reader, Errc::BadMessage, "payloadSize");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, AWriterThatNeverAnswersTimesOutInsteadOfHanging) {
    auto reader = openAgainst([](int connection) {
        receiveHello(connection);
        waitForHangUp(connection, 60s);  // reads the Hello, answers nothing
    });
    expectRefused(reader, Errc::Timeout, "did not answer");
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, AWriterThatNeverAcceptsTimesOutInsteadOfHanging) {
    // A listening socket whose backlog is full: connect() itself would wait forever.
    FakeWriter fake(
        socketPath(), [](int) {}, 0, false);
    std::vector<UniqueFd> queued;
    for (int i = 0; i < 4; ++i) {
        queued.push_back(
            UniqueFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, socketPath().c_str(), sizeof(address.sun_path) - 1);
        ::connect(queued.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
    auto reader = Reader::open("evil");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::Timeout) << reader.error().message;
    auto info = probeFeed("evil");  // what `shmframe list` and `info` do
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, Errc::Timeout) << info.error().message;
}

// A probe's answer: an honest Welcome with the pool alone, then \a after (a reader table,
// or nothing: a writer that predates reader tables hangs up).
std::function<void(int)> probeAnswer(std::vector<std::byte> after) {
    return [after = std::move(after)](int connection) {
        HonestParts parts = honest();
        parts.publish(1, 7);
        if (!receiveHello(connection)) {
            return;
        }
        sendRaw(connection, encodeMessage(protocol::MessageType::Welcome, parts.welcome, 1),
                {parts.pool.get()});
        if (after.empty()) {
            return;  // hangs up at once, as a writer of version 1 does after a probe
        }
        sendRaw(connection, after);
        waitForHangUp(connection, 2s);
    };
}

protocol::ReaderTable tableOfOne() {
    protocol::ReaderTable table;
    table.head.latest = 7;
    table.head.readers = 1;
    protocol::ReaderRow row{};
    row.readerId = 2;
    row.pid = 4242;
    row.flags = protocol::kRowReportsProgress;
    row.delivered = 5;
    row.received = 3;
    row.missed = 1;
    row.leaseCount = 2;
    row.leasesHeld = 1;
    protocol::copyText(row.clientName, sizeof(row.clientName), "reader");
    table.rows.push_back(row);
    return table;
}

TEST_F(HostileWriter, AProbeOfAWriterWithoutReaderTablesStillTellsTheRest) {
    FakeWriter fake(socketPath(), probeAnswer({}));
    auto info = probeFeed("evil");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_FALSE(info->readerTableKnown);
    EXPECT_TRUE(info->readerTable.empty());
    EXPECT_EQ(info->format, smallFormat());
}

TEST_F(HostileWriter, AnHonestReaderTableIsReadAsSent) {
    FakeWriter fake(socketPath(), probeAnswer(protocol::encode(tableOfOne())));
    auto info = probeFeed("evil");
    ASSERT_TRUE(info) << info.error().message;
    ASSERT_TRUE(info->readerTableKnown);
    ASSERT_EQ(info->readerTable.size(), 1u);
    const FeedReader& row = info->readerTable[0];
    EXPECT_EQ(row.pid, 4242);
    EXPECT_EQ(row.clientName, "reader");
    EXPECT_EQ(row.lag, 2u);
    EXPECT_EQ(row.drops, 1u);
    EXPECT_EQ(row.received, 3u);
}

TEST_F(HostileWriter, ABrokenReaderTableFailsTheProbeNamingTheField) {
    struct Case {
        const char* field;
        std::function<std::vector<std::byte>()> table;
    };
    const std::vector<Case> cases = {
        {"rowCount",
         [] {
             auto table = tableOfOne();
             auto bytes = protocol::encode(table);
             protocol::ReaderTableHead head = table.head;
             head.rowCount = 100000;  // more rows than the message has, and than allowed
             std::memcpy(bytes.data() + sizeof(protocol::MessageHeader), &head, sizeof(head));
             return bytes;
         }},
        {"payload bytes",
         [] {
             auto bytes = protocol::encode(tableOfOne());
             bytes.resize(bytes.size() - 8);  // a row cut short, header fixed to match
             protocol::MessageHeader header;
             std::memcpy(&header, bytes.data(), sizeof(header));
             header.payloadSize -= 8;
             std::memcpy(bytes.data(), &header, sizeof(header));
             return bytes;
         }},
        {"clientName",
         [] {
             auto table = tableOfOne();
             std::memset(table.rows[0].clientName, 'x', sizeof(table.rows[0].clientName));
             return protocol::encode(table);
         }},
        {"delivered",
         [] {
             auto table = tableOfOne();
             table.rows[0].delivered = table.head.latest + 1;
             return protocol::encode(table);
         }},
        {"leasesHeld",
         [] {
             auto table = tableOfOne();
             table.rows[0].leasesHeld = 3;
             return protocol::encode(table);
         }},
        {"message type",
         [] {
             protocol::NewPool newPool{};
             return encodeMessage(protocol::MessageType::NewPool, newPool, 0);
         }},
    };
    for (const Case& broken : cases) {
        SCOPED_TRACE(broken.field);
        FakeWriter fake(socketPath(), probeAnswer(broken.table()));
        auto info = probeFeed("evil");
        ASSERT_FALSE(info) << "a broken reader table was accepted";
        EXPECT_EQ(info.error().code, Errc::BadMessage) << info.error().message;
        EXPECT_NE(info.error().message.find(broken.field), std::string::npos)
            << info.error().message;
    }
    expectHonestWriterWorks();
}

TEST_F(HostileWriter, AWriterScribblingOverItsPoolCannotCrashOrHangAReader) {
    // A fake writer with a valid pool that then writes random bytes over everything it
    // can (the header, the slot table, the frames) while it "publishes" random slots
    // and sequences. The static part of the header was copied and checked at connect;
    // nothing the writer changes later moves an offset under the reader. Whatever the
    // reader gets, it may read every byte of it.
    for (const auto mode : {ReadMode::Latest, ReadMode::Sequential}) {
        SCOPED_TRACE(std::string(toString(mode)));
        FakeWriter fake(socketPath(), [](int connection) {
            HonestParts parts = honest();
            parts.publish(1, 1);
            if (!receiveHello(connection)) {
                return;
            }
            auto message = encodeMessage(protocol::MessageType::Welcome, parts.welcome, 3);
            sendRaw(connection, message,
                    {parts.pool.get(), parts.control.get(), parts.wakeReader.get()});
            // Scribble only once the reader has checked what it got and sleeps on us.
            for (int i = 0; i < 2000 && parts.block().wantWake.load() == 0; ++i) {
                ::usleep(1000);
            }
            std::mt19937_64 random(42);
            const std::size_t words = parts.poolMapping.size() / 8;
            auto* pool = reinterpret_cast<std::uint64_t*>(parts.poolMapping.data());
            const auto& geometry = parts.description.geometry;
            std::uint64_t nextSequence = 2;
            for (;;) {
                pollfd pfd{connection, POLLIN, 0};
                if (::poll(&pfd, 1, 0) != 0) {
                    return;  // the reader gave up on us: serve the next connection
                }
                for (int i = 0; i < 64; ++i) {
                    pool[random() % words] = random();
                }
                // Mostly a slot that exists, sometimes one that does not.
                const auto slot = static_cast<std::uint32_t>(
                    random() % 50 == 0 ? random() % 256 : random() % geometry.slotCount);
                // Mostly the next sequence, sometimes a jump ahead, rarely one back.
                const auto dice = random() % 500;
                nextSequence = dice == 0   ? random() % 1000 + 1
                               : dice < 10 ? nextSequence + random() % 100000
                                           : nextSequence + 1;
                const std::uint64_t sequence = nextSequence;
                if (slot < geometry.slotCount) {
                    layout::slotHeader(parts.poolMapping.data(), geometry, slot)
                        .sequence.store(sequence);
                }
                auto& header = parts.header();
                header.latest.store(layout::packLatest(sequence, slot));
                header.eos.store(random() % 16 == 0 ? random() : 0);
                header.state.store(random() % 16 == 0 ? static_cast<std::uint32_t>(random()) : 0);
                parts.block().leaseCount = static_cast<std::uint32_t>(random());
                parts.wake();
                ::usleep(50);
            }
        });
        ReaderOptions options;
        options.mode = mode;
        auto reader = Reader::open("evil", options);
        ASSERT_TRUE(reader) << reader.error().message;
        int frames = 0;
        std::map<Errc, int> outcomes;
        for (int i = 0; i < 3000; ++i) {
            auto frame = reader->next(1ms);
            if (!frame) {
                ++outcomes[frame.error().code];
                continue;
            }
            ++frames;
            std::uint64_t sum = 0;
            for (const auto byte : frame->bytes()) {
                sum += static_cast<std::uint8_t>(byte);
            }
            for (const auto byte : frame->userMeta()) {
                sum += static_cast<std::uint8_t>(byte);
            }
            EXPECT_LE(frame->userMeta().size(), 64u);
            EXPECT_EQ(frame->bytes().size(), smallFormat().frameSize);
            ::testing::Test::RecordProperty("checksum", static_cast<int>(sum & 0xff));
        }
        EXPECT_GT(frames, 0) << "the scribbling writer never got a frame through";
        std::string summary;
        for (const auto& [code, count] : outcomes) {
            summary += std::string(toString(code)) + "=" + std::to_string(count) + " ";
        }
        std::printf("%s: %d frames, %s\n", std::string(toString(mode)).c_str(), frames,
                    summary.c_str());
    }
}

TEST_F(HostileWriter, ABrokenNewPoolDisconnectsTheReaderWithTheReason) {
    FakeWriter fake(socketPath(), [](int connection) {
        HonestParts parts = honest();
        parts.publish(1, 1);
        if (!receiveHello(connection)) {
            return;
        }
        auto welcome = encodeMessage(protocol::MessageType::Welcome, parts.welcome, 3);
        sendRaw(connection, welcome,
                {parts.pool.get(), parts.control.get(), parts.wakeReader.get()});
        // A "new generation" whose fd is unsealed, then the old pool marked retired.
        UniqueFd unsealed = makeMemfd("shmframe:evil", parts.poolMapping.size(), false);
        protocol::NewPool newPool{parts.poolMapping.size(), 2, 0};
        sendRaw(connection, encodeMessage(protocol::MessageType::NewPool, newPool, 1),
                {unsealed.get()});
        parts.header().state.fetch_or(layout::kPoolRetired);
        parts.wake();
        waitForHangUp(connection);
    });
    ReaderOptions options;
    options.reconnect = false;
    auto reader = Reader::open("evil", options);
    ASSERT_TRUE(reader) << reader.error().message;
    auto first = reader->next(2s);
    ASSERT_TRUE(first) << first.error().message;  // frame 1 of the first pool is fine
    EXPECT_TRUE(test::hasPattern(first->bytes(), 1));
    auto next = reader->next(2s);
    ASSERT_FALSE(next);
    EXPECT_EQ(next.error().code, Errc::BadPool) << next.error().message;
    EXPECT_NE(next.error().message.find("seals"), std::string::npos) << next.error().message;
    EXPECT_EQ(reader->state(), ReaderState::WaitingForWriter);
    // The frame taken before stays readable.
    EXPECT_TRUE(test::hasPattern(first->bytes(), 1));
}

TEST_F(HostileWriter, AWaitingReaderReportsABrokenWriterAndTakesTheNextHonestOne) {
    ReaderOptions options;
    options.waitForWriter = true;
    auto reader = Reader::open("evil", options);
    ASSERT_TRUE(reader);
    {
        FakeWriter fake(socketPath(), welcomeWith([] {
                            return makeHonestParts(
                                smallFormat(), 4, true,
                                [](layout::PoolHeader& header) { header.slotCount = 1000; });
                        }));
        auto next = reader->next(5s);
        ASSERT_FALSE(next);
        EXPECT_EQ(next.error().code, Errc::BadPool) << next.error().message;
    }
    auto writer = Writer::create("evil", smallFormat());
    ASSERT_TRUE(writer) << writer.error().message;
    ASSERT_TRUE(publishPattern(*writer, 3));
    std::optional<Frame> frame;
    for (int i = 0; i < 10 && !frame; ++i) {
        auto next = reader->next(2s);
        if (next) {
            frame = std::move(*next);
        }
    }
    ASSERT_TRUE(frame) << "the reader did not move on to the honest writer";
    EXPECT_TRUE(test::hasPattern(frame->bytes(), 3));
}
