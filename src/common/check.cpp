#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace millrace::detail {

void check_failed(const char* file, int line, const char* condition, const std::string& message) {
    std::fprintf(stderr, "%s:%d: MILLRACE_CHECK(%s) failed: %s\n", file, line, condition,
                 message.c_str());
    std::fflush(stderr);
    std::abort();
}

}  // namespace millrace::detail
