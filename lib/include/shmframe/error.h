// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * \file error.h
 * \brief Errors as values: shmframe::Error and shmframe::Result<T>.
 *
 * No exception crosses the library boundary. Every fallible call returns a
 * Result<T> that holds either the value or an Error saying what failed and why,
 * in a sentence a user can act on.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace shmframe {

/// \brief What kind of failure an Error is.
enum class Errc : std::uint8_t {
    InvalidArgument,   ///< a caller-supplied value is out of range or malformed
    InvalidFeedName,   ///< feed name outside [A-Za-z0-9._-]{1,64} and not an absolute path
    NoWriter,          ///< nobody publishes this feed
    WriterExists,      ///< another live writer owns the feed
    PermissionDenied,  ///< the peer's access policy refused us, or the OS did
    ProtocolMismatch,  ///< the peer speaks another protocol version or protocol
    BadMessage,        ///< a socket message was truncated, oversized or malformed
    BadPool,           ///< the shared pool (header, fd, seals) failed validation
    Timeout,           ///< nothing happened within the timeout
    WouldBlock,        ///< the call would have to wait and was asked not to
    WriterGone,        ///< the writer hung up; the reader reconnects by itself
    EndOfStream,       ///< the writer signalled end of stream
    Dropped,           ///< the writer dropped this reader (reason in the message)
    SystemError,       ///< a system call failed (errno in Error::sysErrno)
    Unsupported,       ///< the format or operation is not supported
    Interrupted,       ///< Reader::interrupt() cut a wait short
};

/// \brief A short stable name for an error code ("no-writer", "timeout", ...).
std::string_view toString(Errc code);

/// \brief A failure: its kind, a message a user can act on, and errno if any.
struct Error {
    Errc code = Errc::SystemError;
    std::string message;
    int sysErrno = 0;

    /// \brief Builds an error; appends strerror(sysErrno) to the message when set.
    static Error make(Errc code, std::string message, int sysErrno = 0);
    /// \brief A SystemError for a failed system call: "<what>: <strerror(errno)>".
    static Error fromErrno(std::string_view what, int err);
};

/**
 * \brief Either a T or an Error (a small std::expected, which g++ 12 and clang 14
 * do not both offer in C++20).
 */
template <typename T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool hasValue() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return hasValue(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &std::get<0>(state_); }
    const T* operator->() const { return &std::get<0>(state_); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }

    const Error& error() const& { return std::get<1>(state_); }
    Error&& error() && { return std::get<1>(std::move(state_)); }

  private:
    std::variant<T, Error> state_;
};

/// \brief Result of an operation that returns nothing but may fail.
template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), failed_(true) {}

    bool hasValue() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

  private:
    Error error_;
    bool failed_ = false;
};

}  // namespace shmframe
