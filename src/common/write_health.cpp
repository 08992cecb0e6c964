#include "common/write_health.h"

namespace millrace {

void WriteHealth::failed(std::string_view message) {
    std::lock_guard lock(mutex_);
    failure_ = std::string(message);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    failing_.store(true, std::memory_order_relaxed);
}

void WriteHealth::clear() {
    std::lock_guard lock(mutex_);
    failure_.reset();
    failing_.store(false, std::memory_order_relaxed);
}

std::optional<std::string> WriteHealth::last_failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

void WriteHealth::clear_if_unchanged_since(uint64_t generation) {
    std::lock_guard lock(mutex_);
    if (generation_.load(std::memory_order_acquire) != generation) return;
    failure_.reset();
    failing_.store(false, std::memory_order_relaxed);
}

}  // namespace millrace
