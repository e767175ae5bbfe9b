// SPDX-License-Identifier: LGPL-2.1-or-later
// Runs a program to completion with its stdout and stderr captured, for the tests
// of the CLI and the samples. Long-running ones use shmframe::test::Child instead.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "test_support.h"

namespace shmframe::test {

struct RunResult {
    int exitCode =
        -1;  ///< the exit code; -1 if it timed out (then killed), -2 if a signal killed it
    std::string out;
    std::string err;
};

/// Runs \a program with \a args; kills it (SIGKILL) if it is still running after \a timeout.
RunResult runCommand(const std::string& program, const std::vector<std::string>& args,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Like Child::spawn() with stdout and stderr going to memfds readable with readOutput().
class CapturedChild {
  public:
    CapturedChild(const std::string& program, const std::vector<std::string>& args);
    ~CapturedChild();
    CapturedChild(const CapturedChild&) = delete;
    CapturedChild& operator=(const CapturedChild&) = delete;

    Child& child() { return child_; }
    /// What the child wrote to stdout / stderr so far.
    std::string out() const;
    std::string err() const;

  private:
    int outFd_ = -1;
    int errFd_ = -1;
    Child child_;
};

/// Splits \a text into lines (without the newlines, no empty last line).
std::vector<std::string> splitLines(const std::string& text);

}  // namespace shmframe::test
