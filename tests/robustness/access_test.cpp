// SPDX-License-Identifier: LGPL-2.1-or-later
// Who may read a feed, and what a reader may do with the pool: the feed dir is
// private, another uid is refused, a reader cannot write the pool, nobody can resize it.
#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "robustness_support.h"

using namespace shmframe;
using namespace shmframe::robust;

namespace {

class Access : public RobustnessTest {};

constexpr uid_t kNobody = 65534;

// A world-writable temp dir, so that a process of another uid reaches the socket and
// the writer's own check (SO_PEERCRED) is what decides.
class OpenDir {
  public:
    OpenDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "shmframe-open-XXXXXX").string();
        if (::mkdtemp(pattern.data())) {
            path_ = pattern;
            ::chmod(path_.c_str(), 0777);
        }
    }
    ~OpenDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

// In a child that became uid/gid nobody: opens a reader on \a socketPath and reads one
// frame. Exit 0: read a pixel-exact frame; 10 + Errc: refused with that code.
int readAsNobody(const std::string& socketPath, const char* expectInMessage) {
    auto child = test::Child::fork([&]() -> int {
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
            std::perror("dropping to nobody");
            return 2;
        }
        auto reader = Reader::open(socketPath);
        if (!reader) {
            std::fprintf(stderr, "as nobody: %s\n", reader.error().message.c_str());
            if (expectInMessage &&
                reader.error().message.find(expectInMessage) == std::string::npos) {
                return 3;
            }
            return 10 + static_cast<int>(reader.error().code);
        }
        auto frame = reader->next(5s);
        if (!frame || !test::hasPattern(frame->bytes(), frame->meta().pts)) {
            return 4;
        }
        return 0;
    });
    return child.wait(30s);
}

// "start-end" of the first mapping of /proc/self/maps whose line contains \a needle.
std::optional<std::pair<std::uintptr_t, std::uintptr_t>> mappingOf(const std::string& needle) {
    for (const auto& line : mapsLines(0, needle)) {
        std::uintptr_t start = 0;
        std::uintptr_t end = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2) {
            return std::make_pair(start, end);
        }
    }
    return std::nullopt;
}

// Fds of this process whose /proc/self/fd link contains \a needle.
std::vector<int> fdsLinkedTo(const std::string& needle) {
    std::vector<int> fds;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code error;
        const auto target = std::filesystem::read_symlink(entry.path(), error).string();
        if (!error && target.find(needle) != std::string::npos) {
            fds.push_back(std::stoi(entry.path().filename().string()));
        }
    }
    return fds;
}

// Every way to write or resize a pool segment through \a fd fails.
void expectCannotWriteOrResize(int fd, std::size_t size) {
    errno = 0;
    void* writable = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    EXPECT_EQ(writable, MAP_FAILED) << "a writable shared mapping of the pool was allowed";
    if (writable != MAP_FAILED) {
        ::munmap(writable, size);
    }
    EXPECT_TRUE(errno == EACCES || errno == EPERM) << std::strerror(errno);
    const char byte = 1;
    EXPECT_EQ(::pwrite(fd, &byte, 1, 0), -1) << "write() into the pool was allowed";
    EXPECT_NE(::ftruncate(fd, static_cast<off_t>(size / 2)), 0) << "the pool was shrunk";
    EXPECT_NE(::ftruncate(fd, static_cast<off_t>(size * 2)), 0) << "the pool was grown";
    EXPECT_NE(::fallocate(fd, 0, static_cast<off_t>(size), 4096), 0) << "the pool was grown";
    EXPECT_NE(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0) << "seals could still be changed";
    struct stat info {};
    ASSERT_EQ(::fstat(fd, &info), 0);
    EXPECT_EQ(static_cast<std::size_t>(info.st_size), size);
}

}  // namespace

TEST_F(Access, TheFeedDirectoryIsCreatedPrivate) {
    const std::string sub = dir_.path() + "/created-by-writer";
    ::setenv("SHMFRAME_DIR", sub.c_str(), 1);
    {
        auto writer = Writer::create("private", smallFormat());
        ASSERT_TRUE(writer) << writer.error().message;
        struct stat info {};
        ASSERT_EQ(::stat(sub.c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 07777, 0700u);
        EXPECT_EQ(info.st_uid, ::geteuid());
        ASSERT_EQ(::stat((sub + "/private.sock").c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 0077, 0u) << "the socket is open to others";
    }
    ::setenv("SHMFRAME_DIR", dir_.path().c_str(), 1);
    EXPECT_EQ(::rmdir(sub.c_str()), 0) << "the writer left files behind";
}

TEST_F(Access, ARelativeFeedDirectoryIsRefusedOnEitherSide) {
    // Two processes in different working dirs would each use their own dir.
    ::setenv("SHMFRAME_DIR", "relative/feeds", 1);
    auto writer = Writer::create("rel", smallFormat());
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().code, Errc::InvalidArgument);
    EXPECT_NE(writer.error().message.find("not an absolute path"), std::string::npos)
        << writer.error().message;
    auto reader = Reader::open("rel");
    ASSERT_FALSE(reader);
    EXPECT_EQ(reader.error().code, Errc::InvalidArgument) << reader.error().message;
    EXPECT_FALSE(std::filesystem::exists("relative")) << "a relative dir was created";
    ::setenv("SHMFRAME_DIR", dir_.path().c_str(), 1);
}

TEST_F(Access, AnotherUserIsRefusedByTheWritersCredentialCheck) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to run a reader as another uid (nobody); running as uid "
                     << ::geteuid();
    }
    OpenDir open;
    ASSERT_FALSE(open.path().empty());
    const std::string socketPath = open.path() + "/cam.sock";
    // The socket is reachable by anyone (the policy names another uid), so the
    // connection gets through and SO_PEERCRED decides.
    auto writer = startPeer({"writer", socketPath, "--access", "uid:4242"});
    ASSERT_TRUE(writer.waitReady());
    EXPECT_EQ(readAsNobody(socketPath, "uid 65534 may not read"),
              10 + static_cast<int>(Errc::PermissionDenied));
    EXPECT_EQ(writer.stop(), 0);
}

TEST_F(Access, AnotherUserCannotEvenReachAPrivateFeedsSocket) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to run a reader as another uid (nobody); running as uid "
                     << ::geteuid();
    }
    OpenDir open;
    const std::string socketPath = open.path() + "/cam.sock";
    auto writer = startPeer({"writer", socketPath});  // default policy: same uid only
    ASSERT_TRUE(writer.waitReady());
    struct stat info {};
    ASSERT_EQ(::stat(socketPath.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_EQ(readAsNobody(socketPath, "belongs to another user"),
              10 + static_cast<int>(Errc::PermissionDenied));
    EXPECT_EQ(writer.stop(), 0);
}

TEST_F(Access, AnotherUserIsServedWhenTheWriterAllowsIt) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to run a reader as another uid (nobody); running as uid "
                     << ::geteuid();
    }
    // The same set-up as above with the uid allowed: proves the refusals are the policy's.
    OpenDir open;
    const std::string socketPath = open.path() + "/cam.sock";
    for (const char* access : {"uid:65534", "any"}) {
        SCOPED_TRACE(access);
        auto writer = startPeer({"writer", socketPath, "--access", access});
        ASSERT_TRUE(writer.waitReady());
        EXPECT_EQ(readAsNobody(socketPath, nullptr), 0);
        EXPECT_EQ(writer.stop(), 0);
    }
}

TEST_F(Access, AReaderCannotWriteOrResizeThePool) {
    // The writer is another process: this one is only a reader.
    auto writer = startPeer({"writer", "cam", "--size", "64x48", "--fps", "100"});
    ASSERT_TRUE(writer.waitReady());
    auto reader = Reader::open("cam");
    ASSERT_TRUE(reader) << reader.error().message;
    auto frame = reader->next(5s);
    ASSERT_TRUE(frame) << frame.error().message;
    const std::uint64_t pts = frame->meta().pts;

    // Its own mapping cannot be made writable.
    const auto page =
        reinterpret_cast<std::uintptr_t>(frame->bytes().data()) & ~std::uintptr_t{4095};
    errno = 0;
    EXPECT_NE(::mprotect(reinterpret_cast<void*>(page), 4096, PROT_READ | PROT_WRITE), 0);
    EXPECT_EQ(errno, EACCES) << std::strerror(errno);
    auto mapping = mappingOf("memfd:shmframe:");
    ASSERT_TRUE(mapping) << "the pool is not a shmframe memfd mapping";
    const std::size_t poolSize = mapping->second - mapping->first;
    EXPECT_NE(::mprotect(reinterpret_cast<void*>(mapping->first), poolSize, PROT_READ | PROT_WRITE),
              0);

    // Nor can the segment behind it, however it is reopened (root included: the seals
    // hold where file permissions do not).
    char range[64];
    std::snprintf(range, sizeof(range), "/proc/self/map_files/%lx-%lx", mapping->first,
                  mapping->second);
    for (const int mode : {O_RDONLY, O_RDWR}) {
        SCOPED_TRACE(mode == O_RDONLY ? "reopened read-only" : "reopened read-write");
        UniqueFd reopened(::open(range, mode | O_CLOEXEC));
        if (!reopened) {
            EXPECT_TRUE(errno == EACCES || errno == EPERM) << std::strerror(errno);
            continue;  // not even allowed to open it this way
        }
        expectCannotWriteOrResize(reopened.get(), poolSize);
    }

    // The fd the writer hands out, as a hand-made reader receives it.
    auto raw = connectRaw(reader->socketPath());
    ASSERT_TRUE(raw);
    ASSERT_TRUE(sendRaw(raw.get(), helloMessage()));
    ASSERT_TRUE(protocol::waitReadable(raw.get(), 5000));
    auto welcome = protocol::receive(raw.get());
    ASSERT_TRUE(welcome) << welcome.error().message;
    ASSERT_EQ(welcome->type, protocol::MessageType::Welcome);
    const auto poolFds = fdsLinkedTo("memfd:shmframe:");
    ASSERT_EQ(poolFds.size(), 1u) << "the pool fd is not in /proc/self/fd";
    EXPECT_EQ(poolFds[0], welcome->fds[0].get());
    EXPECT_EQ(::fcntl(poolFds[0], F_GETFL) & O_ACCMODE, O_RDONLY);
    expectCannotWriteOrResize(poolFds[0], std::get<protocol::Welcome>(welcome->payload).poolSize);
    // Its control block is its own to write, but not to resize (the writer maps it too).
    const int control = welcome->fds[1].get();
    EXPECT_NE(::ftruncate(control, 1), 0);
    EXPECT_NE(::ftruncate(control, 1 << 20), 0);

    // All that left the frame as it was.
    EXPECT_TRUE(test::hasPattern(frame->bytes(), pts));
    EXPECT_EQ(writer.stop(), 0);
}
