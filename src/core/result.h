// Recoverable errors travel as values: a Result<T> holds either a T or an Error that says what
// failed on which object ("reading /proc/42/fd: No such file or directory").
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tsnitch {

struct Error {
    std::string message;
    int code = 0;  // errno when the failure came from the kernel, else 0
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;

inline Error make_error(std::string message, int code = 0) {
    return Error{std::move(message), code};
}

}  // namespace tsnitch
