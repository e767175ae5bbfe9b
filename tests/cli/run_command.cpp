// SPDX-License-Identifier: LGPL-2.1-or-later
#include "run_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace shmframe::test {
namespace {

int makeCaptureFd(const char* name) {
    const int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
    }
    return fd;
}

std::string readAll(int fd) {
    std::string text;
    char buffer[4096];
    off_t offset = 0;
    for (;;) {
        const ssize_t got = pread(fd, buffer, sizeof buffer, offset);
        if (got <= 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(got));
        offset += got;
    }
    return text;
}

pid_t spawnWith(const std::string& program, const std::vector<std::string>& args, int outFd,
                int errFd) {
    std::vector<std::string> argvStorage{program};
    argvStorage.insert(argvStorage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argvStorage) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, outFd, 1);
    posix_spawn_file_actions_adddup2(&actions, errFd, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid = -1;
    const int result = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (result != 0) {
        throw std::runtime_error("posix_spawn " + program + ": " + std::strerror(result));
    }
    return pid;
}

}  // namespace

RunResult runCommand(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout) {
    CapturedChild captured(program, args);
    RunResult result;
    result.exitCode = captured.child().wait(timeout);
    if (result.exitCode == -1) {
        captured.child().kill();
    }
    result.out = captured.out();
    result.err = captured.err();
    return result;
}

CapturedChild::CapturedChild(const std::string& program, const std::vector<std::string>& args)
    : outFd_(makeCaptureFd("stdout")), errFd_(makeCaptureFd("stderr")) {
    child_ = Child(spawnWith(program, args, outFd_, errFd_));
}

CapturedChild::~CapturedChild() {
    child_.kill();
    close(outFd_);
    close(errFd_);
}

std::string CapturedChild::out() const {
    return readAll(outFd_);
}
std::string CapturedChild::err() const {
    return readAll(errFd_);
}

std::vector<std::string> splitLines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);) {
        lines.push_back(line);
    }
    return lines;
}

}  // namespace shmframe::test
