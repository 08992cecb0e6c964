#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace millrace {

/// A growable byte buffer that, unlike std::vector, does not zero what it grows into. Column
/// builders append into it on hot paths. Storage is 16-byte aligned (malloc), enough for every
/// physical type. Move-only; owns its memory.
class Buffer {
public:
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    Buffer(Buffer&& other) noexcept { swap(other); }
    Buffer& operator=(Buffer&& other) noexcept {
        if (this != &other) {
            release();
            swap(other);
        }
        return *this;
    }
    ~Buffer() { release(); }

    uint8_t* data() { return data_; }
    const uint8_t* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    bool empty() const { return size_ == 0; }

    template <typename T>
    T* as() {
        return reinterpret_cast<T*>(data_);
    }
    template <typename T>
    const T* as() const {
        return reinterpret_cast<const T*>(data_);
    }

    void reserve(std::size_t capacity) {
        if (capacity > capacity_) grow_to(capacity);
    }
    /// Sets the size; bytes past the old size are uninitialized.
    void resize(std::size_t size) {
        reserve(size);
        size_ = size;
    }
    /// Sets the size; bytes past the old size are zero.
    void resize_zeroed(std::size_t size) {
        std::size_t old = size_;
        resize(size);
        if (size > old) std::memset(data_ + old, 0, size - old);
    }
    void append(const void* bytes, std::size_t count) {
        if (size_ + count > capacity_) grow_to(size_ + count);
        if (count <= 16) {
            copy_small(data_ + size_, static_cast<const uint8_t*>(bytes), count);
        } else {
            std::memcpy(data_ + size_, bytes, count);
        }
        size_ += count;
    }
    template <typename T>
    void push(T value) {
        if (size_ + sizeof(T) > capacity_) grow_to(size_ + sizeof(T));
        std::memcpy(data_ + size_, &value, sizeof(T));
        size_ += sizeof(T);
    }
    void clear() { size_ = 0; }

private:
    // Copies 0..16 bytes with two overlapping fixed-size moves, which compile to plain loads and
    // stores; a memcpy call per short string (ids, names, codes) costs more than the copy.
    static void copy_small(uint8_t* to, const uint8_t* from, std::size_t count) {
        if (count >= 8) {
            uint64_t head, tail;
            std::memcpy(&head, from, 8);
            std::memcpy(&tail, from + count - 8, 8);
            std::memcpy(to, &head, 8);
            std::memcpy(to + count - 8, &tail, 8);
        } else if (count >= 4) {
            uint32_t head, tail;
            std::memcpy(&head, from, 4);
            std::memcpy(&tail, from + count - 4, 4);
            std::memcpy(to, &head, 4);
            std::memcpy(to + count - 4, &tail, 4);
        } else if (count > 0) {
            to[0] = from[0];
            to[count / 2] = from[count / 2];
            to[count - 1] = from[count - 1];
        }
    }

    void grow_to(std::size_t minimum);
    void release();
    void swap(Buffer& other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
        std::swap(capacity_, other.capacity_);
    }

    uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace millrace
