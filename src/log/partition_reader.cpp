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
    while (true) {
        MILLRACE_ASSIGN_OR_RETURN(
            Offset next, partition_->read(position_, bound_, max_records, max_bytes, buffer_, out));
        if (!out.empty()) {
            position_ = next;
            return true;
        }
        // Transaction markers and aborted records yield nothing: read on past them. Otherwise
        // nothing below the bound is readable (it lies past the end or the last stable offset).
        const bool moved = next > position_ && next < bound_;
        position_ = std::max(position_, next);
        if (!moved) return false;
    }
}

}  // namespace millrace
