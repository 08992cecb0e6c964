#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "types/batch.h"
#include "types/schema.h"
#include "types/time_codec.h"

namespace millrace {

/// A schema field name as the raw bytes a JSON key has when it needs no escapes: the name and
/// its closing quote, in 8-byte words with a mask for the last one. Comparing a key then costs a
/// load, a xor and an and per word (keys are short, so usually one or two words) instead of a
/// byte loop or a memcmp call; the input is padded, so reading whole words past the key is safe.
struct JsonRawKey {
    std::vector<uint64_t> words;
    uint64_t last_mask = 0;

    explicit JsonRawKey(const std::string& name) {
        std::string bytes = name + '"';
        const std::size_t count = (bytes.size() + 7) / 8;
        const std::size_t tail = bytes.size() - (count - 1) * 8;
        bytes.resize(count * 8, '\0');
        words.resize(count);
        std::memcpy(words.data(), bytes.data(), count * 8);
        last_mask = tail == 8 ? ~uint64_t{0} : (uint64_t{1} << (tail * 8)) - 1;
    }

    bool matches(const char* raw) const {
        const std::size_t last = words.size() - 1;
        for (std::size_t i = 0; i < last; ++i) {
            uint64_t word;
            std::memcpy(&word, raw + i * 8, 8);
            if (word != words[i]) return false;
        }
        uint64_t word;
        std::memcpy(&word, raw + last * 8, 8);
        return ((word ^ words[last]) & last_mask) == 0;
    }
};

/// The JSON decoder's fast path for the shape nearly every event has: one flat object whose
/// values are strings without escapes, numbers, true, false or null. It walks the bytes once,
/// checking the JSON grammar as it goes, and appends the values straight to a BatchBuilder's
/// columns, where simdjson needs a structural pass over the record before its value pass.
///
/// It accepts a record only where JsonDecoder's full path would accept it with the same values.
/// Everything else — an escape, a nested value, a coercion (a number in a string, an epoch
/// timestamp), a duplicate or missing field, a grammar error — makes scan() return false; the
/// caller then rolls the partial row back and decodes the record with simdjson, which also gives
/// the exact error. So the fast path never decides what is rejected or why.
///
/// Preconditions of scan(): the bytes are valid UTF-8 (the caller validates, usually a whole
/// window at once) and at least 16 readable bytes follow `end` (padding), because strings are
/// scanned 16 bytes at a time. Not thread-safe.
class FlatJsonScanner {
public:
    explicit FlatJsonScanner(std::shared_ptr<const Schema> schema);

    /// False for schemas the fast path does not serve (one with an `_extra` column, which
    /// collects unknown fields as JSON text); scan() must not be called then.
    bool enabled() const { return enabled_; }

    /// Appends one row's values for the object in [begin, end) and returns true, or returns false
    /// having appended part of a row (the caller rolls it back). Does not commit the row.
    bool scan(const char* begin, const char* end, BatchBuilder& builder);

private:
    bool scan_value(std::size_t index, const char*& p, const char* end, BatchBuilder& builder);
    std::size_t find_field(std::string_view key) const;

    static constexpr std::size_t kUnknown = static_cast<std::size_t>(-1);

    std::shared_ptr<const Schema> schema_;
    bool enabled_ = true;
    std::vector<std::string> names_;
    std::vector<JsonRawKey> raw_keys_;
    std::vector<uint8_t> raw_key_usable_;  // 0 for names that need escapes as JSON keys
    std::unordered_map<std::string_view, std::size_t> index_;  // views into names_
    std::vector<uint32_t> seen_;  // seen_[i] == generation_ when field i was in this record
    uint32_t generation_ = 0;
    CachedTimestampParser timestamps_;
};

}  // namespace millrace
