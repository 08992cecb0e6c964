#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "log/fwd.h"
#include "log/record_batch.h"

namespace millrace {

/// Reads one partition from an offset up to a bound fixed at construction: the replayable
/// source of a pipeline reads [checkpointed offset, end offset captured at start) and, on
/// restart, the same range again. Records come back in offset order, each once.
///
///   PartitionReader reader(topic->partition(0), /*from=*/committed, /*bound=*/end_at_start);
///   std::vector<RecordView> records;
///   while (true) {
///       MILLRACE_ASSIGN_OR_RETURN(bool more, reader.next(records));
///       if (!more) break;
///       for (const RecordView& r : records) ...;   // valid until the next call to next()
///   }
///
/// Not thread-safe (one reader per thread); many readers may read one partition concurrently
/// with its writer.
class PartitionReader {
public:
    /// `bound` is exclusive; pass partition->end_offset() for "what is there now".
    PartitionReader(std::shared_ptr<Partition> partition, Offset from, Offset bound);

    /// Replaces `out` with the next records (about `max_records` or `max_bytes`). Returns false
    /// (and leaves `out` empty) once position() reached the bound. kOutOfRange when the records
    /// at position() were removed by retention.
    Result<bool> next(std::vector<RecordView>& out, std::size_t max_records = 4096,
                      std::size_t max_bytes = std::size_t{4} << 20);

    /// The offset the next record read will have.
    Offset position() const { return position_; }

private:
    std::shared_ptr<Partition> partition_;
    Offset position_;
    Offset bound_;
    std::string buffer_;
};

}  // namespace millrace
