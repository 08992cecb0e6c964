#include "types/buffer.h"

#include <cstdlib>
#include <new>

namespace millrace {

void Buffer::grow_to(std::size_t minimum) {
    std::size_t capacity = capacity_ < 64 ? 64 : capacity_;
    while (capacity < minimum) capacity *= 2;
    void* grown = std::realloc(data_, capacity);
    if (grown == nullptr) throw std::bad_alloc();
    data_ = static_cast<uint8_t*>(grown);
    capacity_ = capacity;
}

void Buffer::release() {
    std::free(data_);
    data_ = nullptr;
    size_ = 0;
    capacity_ = 0;
}

}  // namespace millrace
