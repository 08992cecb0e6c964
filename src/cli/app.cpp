#include "cli/app.h"

#include <cstdio>

namespace millrace {

int run_cli(int, char**) {
    std::puts("millrace 0.1.0");
    return 0;
}

}  // namespace millrace
