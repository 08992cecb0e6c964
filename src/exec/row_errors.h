#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace millrace {

/// Rows of one batch that failed while an expression was evaluated (division by zero, integer
/// overflow, a bad cast), each with PostgreSQL's message. The evaluator yields null for such a
/// row and records it here; the operator then routes the row to the dead-letter output instead
/// of emitting it, so one bad row never stops a pipeline.
class RowErrors {
public:
    void add(uint32_t row, std::string message) {
        if (row >= flags_.size()) flags_.resize(static_cast<std::size_t>(row) + 1, 0);
        if (flags_[row]) return;  // the first error of a row is its reason
        flags_[row] = 1;
        errors_.push_back({row, std::move(message)});
    }
    bool empty() const { return errors_.empty(); }
    std::size_t size() const { return errors_.size(); }
    bool has(uint32_t row) const { return row < flags_.size() && flags_[row] != 0; }
    struct Entry {
        uint32_t row;
        std::string message;
    };
    const std::vector<Entry>& entries() const { return errors_; }
    void clear() {
        errors_.clear();
        flags_.clear();
    }

private:
    std::vector<Entry> errors_;
    std::vector<uint8_t> flags_;
};

}  // namespace millrace
