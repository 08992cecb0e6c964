#pragma once

#include <string>

namespace millrace::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* condition,
                               const std::string& message);
}  // namespace millrace::detail

/// Guards an invariant in every build: prints the condition, the message and where, then aborts.
/// Never use it on anything user input can reach; bad input is an Error or a dead-letter row.
#define MILLRACE_CHECK(condition, message)                                               \
    do {                                                                                 \
        if (!(condition)) [[unlikely]] {                                                 \
            ::millrace::detail::check_failed(__FILE__, __LINE__, #condition, (message)); \
        }                                                                                \
    } while (0)

#ifdef NDEBUG
#define MILLRACE_DCHECK(condition, message) \
    do {                                    \
    } while (false && (condition))
#else
#define MILLRACE_DCHECK(condition, message) MILLRACE_CHECK(condition, message)
#endif
