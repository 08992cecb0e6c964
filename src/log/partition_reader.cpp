#include "log/partition_reader.h"

#include <algorithm>

#include "log/partition.h"

namespace millrace {

PartitionReader::PartitionReader(std::shared_ptr<Partition> partition, Offset from, Offset bound)
    : partition_(std::move(partition)), position_(from), bound_(bound) {}

Result<bool> PartitionReader::next(std::vector<RecordView>& out, std::size_t max_records,
                                   std::size_t max_bytes) {
    out.clear();
    if (position_ >= bound_) return false;
    MILLRACE_ASSIGN_OR_RETURN(
        Offset next, partition_->read(position_, bound_, max_records, max_bytes, buffer_, out));
    if (out.empty()) {
        // Nothing below the bound exists (the bound lies past the partition's end).
        position_ = std::max(position_, next);
        return false;
    }
    position_ = next;
    return true;
}

}  // namespace millrace
