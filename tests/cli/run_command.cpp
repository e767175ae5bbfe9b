// SPDX-License-Identifier: LGPL-2.1-or-later
#include "run_command.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

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
    Child::Streams streams;
    streams.in = Child::Streams::kDevNull;
    streams.out = outFd_;
    streams.err = errFd_;
    child_ = Child::spawnWith(program, args, streams);
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
