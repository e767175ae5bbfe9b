// SPDX-License-Identifier: LGPL-2.1-or-later
#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace shmframe::test {

TempFeedDir::TempFeedDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "shmframe-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) {
        throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
    if (const char* previous = std::getenv("SHMFRAME_DIR")) {
        previous_ = previous;
        hadPrevious_ = true;
    }
    ::setenv("SHMFRAME_DIR", path_.c_str(), 1);
}

TempFeedDir::~TempFeedDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
    if (hadPrevious_) {
        ::setenv("SHMFRAME_DIR", previous_.c_str(), 1);
    } else {
        ::unsetenv("SHMFRAME_DIR");
    }
}

std::vector<std::string> TempFeedDir::entries() const {
    std::vector<std::string> names;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(path_, ignored)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

int countOpenFds() {
    int count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) {
        return -1;
    }
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') {
            ++count;
        }
    }
    ::closedir(dir);
    return count - 1;  // the DIR's own fd
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

Child& Child::operator=(Child&& other) noexcept {
    if (this != &other) {
        kill();
        pid_ = std::exchange(other.pid_, -1);
        status_ = other.status_;
    }
    return *this;
}

Child::~Child() {
    kill();
}

Child Child::fork(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error("fork failed");
    }
    if (pid == 0) {
        int code = 1;
        try {
            code = body();
        } catch (...) {
            code = 99;
        }
        std::fflush(nullptr);
        ::_exit(code);
    }
    return Child(pid);
}

Child Child::spawnWith(const std::string& program, const std::vector<std::string>& args,
                       const Streams& streams) {
    std::vector<std::string> argvStorage{program};
    argvStorage.insert(argvStorage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argvStorage) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const auto redirect = [&](int target, int source, int devNullFlags) {
        if (source == Streams::kDevNull) {
            posix_spawn_file_actions_addopen(&actions, target, "/dev/null", devNullFlags, 0);
        } else if (source >= 0) {
            posix_spawn_file_actions_adddup2(&actions, source, target);  // clears close-on-exec
        }
    };
    redirect(0, streams.in, O_RDONLY);
    redirect(1, streams.out, O_WRONLY);
    redirect(2, streams.err, O_WRONLY);
    pid_t pid = -1;
    const int result =
        ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (result != 0) {
        throw std::runtime_error("posix_spawn " + program + ": " + std::strerror(result));
    }
    return Child(pid);
}

Child Child::spawn(const std::string& program, const std::vector<std::string>& args, bool quiet) {
    Streams streams;
    if (quiet) {
        streams.out = streams.err = Streams::kDevNull;
    }
    return spawnWith(program, args, streams);
}

Child Child::spawnPiped(const std::string& program, const std::vector<std::string>& args,
                        int* stdoutFd, bool quietStderr) {
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    Streams streams;
    streams.out = pipeFds[1];
    if (quietStderr) {
        streams.err = Streams::kDevNull;
    }
    try {
        Child child = spawnWith(program, args, streams);
        ::close(pipeFds[1]);
        *stdoutFd = pipeFds[0];
        return child;
    } catch (...) {
        ::close(pipeFds[0]);
        ::close(pipeFds[1]);
        throw;
    }
}

bool Child::running() {
    if (pid_ <= 0) {
        return false;
    }
    const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
    if (done == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

bool Child::stopped() const {
    if (pid_ <= 0) {
        return false;
    }
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string line;
    std::getline(stat, line);
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so look after the last ')'.
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'T';
}

void Child::signal(int signo) const {
    if (pid_ > 0) {
        ::kill(pid_, signo);
    }
}

int Child::kill() {
    if (pid_ <= 0) {
        return status_;
    }
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
}

int Child::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
        const pid_t done = ::waitpid(pid_, &status_, WNOHANG);
        if (done == pid_) {
            pid_ = -1;
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (WIFEXITED(status_)) {
        return WEXITSTATUS(status_);
    }
    return -2;
}

LineReader::LineReader(LineReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)), eof_(other.eof_) {}

LineReader& LineReader::operator=(LineReader&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = std::exchange(other.fd_, -1);
        buffer_ = std::move(other.buffer_);
        eof_ = other.eof_;
    }
    return *this;
}

LineReader::~LineReader() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

std::optional<std::string> LineReader::next(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
            std::string line = buffer_.substr(0, newline);
            buffer_.erase(0, newline + 1);
            return line;
        }
        if (eof_ || fd_ < 0) {
            return std::nullopt;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) {
            return std::nullopt;
        }
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno != EINTR) {
            return std::nullopt;
        }
        if (ready <= 0) {
            continue;
        }
        char chunk[4096];
        const ssize_t got = ::read(fd_, chunk, sizeof(chunk));
        if (got > 0) {
            buffer_.append(chunk, static_cast<std::size_t>(got));
        } else if (got == 0 || errno != EINTR) {
            eof_ = true;
        }
    }
}

std::optional<std::string> LineReader::waitFor(const std::string& prefix,
                                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto line = next(std::max(left, std::chrono::milliseconds(0)));
        if (!line) {
            return std::nullopt;
        }
        if (line->rfind(prefix, 0) == 0) {
            return line;
        }
    }
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

namespace {
std::uint8_t patternByte(std::size_t index, std::uint64_t seed) {
    std::uint64_t x = (index / 8) * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull;
    x ^= x >> 29;
    return static_cast<std::uint8_t>(x >> (8 * (index % 8)));
}
}  // namespace

void fillPattern(std::span<std::byte> bytes, std::uint64_t seed) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = std::byte{patternByte(i, seed)};
    }
}

bool hasPattern(std::span<const std::byte> bytes, std::uint64_t seed) {
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != std::byte{patternByte(i, seed)}) {
            return false;
        }
    }
    return true;
}

std::string peerProgram() {
    return SHMFRAME_TEST_PEER;
}

}  // namespace shmframe::test
