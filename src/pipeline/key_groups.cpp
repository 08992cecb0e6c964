#include "pipeline/key_groups.h"

#include <string>

#include "exec/key_encoder.h"
#include "sketch/hash.h"

namespace millrace {

KeyGroupRange key_group_range(uint32_t subtask, uint32_t parallelism, uint32_t max_key_groups) {
    // The first key group of subtask s is ceil(s * max / P): the inverse of subtask_of's
    // floor(group * P / max).
    auto first = [&](uint64_t s) {
        return static_cast<uint32_t>((s * max_key_groups + parallelism - 1) / parallelism);
    };
    return KeyGroupRange{first(subtask), first(uint64_t{subtask} + 1)};
}

uint32_t subtask_of(uint32_t group, uint32_t parallelism, uint32_t max_key_groups) {
    return static_cast<uint32_t>(uint64_t{group} * parallelism / max_key_groups);
}

void assign_key_groups(const Batch& batch, std::span<const std::size_t> key_columns,
                       uint32_t max_key_groups, std::vector<uint32_t>& out) {
    const std::size_t rows = batch.num_rows();
    out.assign(rows, 0);
    if (key_columns.empty() || max_key_groups <= 1) return;
    std::vector<const Column*> columns;
    for (std::size_t c : key_columns) columns.push_back(&batch.column(c));
    std::string key;
    const std::size_t width = KeyEncoder::fixed_row_width(columns);
    if (width > 0) {
        key.resize(width * rows);
        KeyEncoder::encode_fixed(columns, rows, width, key.data());
        for (std::size_t row = 0; row < rows; ++row) {
            out[row] =
                static_cast<uint32_t>(hash_bytes(key.data() + row * width, width) % max_key_groups);
        }
        return;
    }
    for (std::size_t row = 0; row < rows; ++row) {
        key.clear();
        (void)KeyEncoder::encode(columns, row, key);  // null keys have a group too
        out[row] = static_cast<uint32_t>(hash_string(key) % max_key_groups);
    }
}

}  // namespace millrace
