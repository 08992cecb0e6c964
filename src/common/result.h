#pragma once

#include <optional>
#include <utility>
#include <variant>

#include "common/check.h"
#include "common/error.h"

namespace millrace {

/// A value or an Error, shaped like std::expected (C++23) so it can be swapped for it later.
/// Construct from a T for success, from an Error for failure; `return {};` is success for
/// Result<void> (alias Status).
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(implicit)
    Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

    bool ok() const { return storage_.index() == 0; }
    bool has_value() const { return ok(); }
    explicit operator bool() const { return ok(); }

    T& value() & {
        MILLRACE_CHECK(ok(), "Result::value() on an error: " + error_string());
        return std::get<0>(storage_);
    }
    const T& value() const& {
        MILLRACE_CHECK(ok(), "Result::value() on an error: " + error_string());
        return std::get<0>(storage_);
    }
    T&& value() && {
        MILLRACE_CHECK(ok(), "Result::value() on an error: " + error_string());
        return std::get<0>(std::move(storage_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& {
        MILLRACE_CHECK(!ok(), "Result::error() on a value");
        return std::get<1>(storage_);
    }
    Error&& error() && {
        MILLRACE_CHECK(!ok(), "Result::error() on a value");
        return std::get<1>(std::move(storage_));
    }

private:
    std::string error_string() const {
        return ok() ? std::string() : std::get<1>(storage_).to_string();
    }

    std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : error_(std::move(error)) {}  // NOLINT(implicit)

    bool ok() const { return !error_.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const& {
        MILLRACE_CHECK(!ok(), "Status::error() on success");
        return *error_;
    }
    Error&& error() && {
        MILLRACE_CHECK(!ok(), "Status::error() on success");
        return std::move(*error_);
    }

private:
    std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace millrace

#define MILLRACE_CONCAT_INNER(a, b) a##b
#define MILLRACE_CONCAT(a, b) MILLRACE_CONCAT_INNER(a, b)

/// Evaluates `expr` (a Result or Status); returns its Error from the enclosing function on failure.
#define MILLRACE_TRY(expr)                                  \
    do {                                                    \
        auto&& millrace_try_result_ = (expr);               \
        if (!millrace_try_result_.ok()) {                   \
            return std::move(millrace_try_result_).error(); \
        }                                                   \
    } while (0)

/// `MILLRACE_ASSIGN_OR_RETURN(auto x, make_x());` declares x from the value or returns the Error.
#define MILLRACE_ASSIGN_OR_RETURN(lhs, expr) \
    MILLRACE_ASSIGN_OR_RETURN_IMPL(MILLRACE_CONCAT(millrace_result_, __LINE__), lhs, expr)
#define MILLRACE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                                 \
    if (!tmp.ok()) return std::move(tmp).error();      \
    lhs = std::move(tmp).value()
