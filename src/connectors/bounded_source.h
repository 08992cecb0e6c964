#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "formats/decode_sink.h"
#include "types/schema.h"

namespace millrace {

/// A source a batch run reads to its end: files (FileSource) or a log topic up to the end
/// offsets captured when the run starts (TopicSource). Records that fail to decode go to the
/// sink's on_error, tagged by the listener with where they came from.
class BoundedSource {
public:
    virtual ~BoundedSource() = default;

    /// Called before the records of one input unit (a file, a topic partition) are decoded.
    class Listener {
    public:
        virtual ~Listener() = default;
        virtual void on_file(const std::string& where) = 0;
        /// A whole input unit was set aside without any of its records being delivered (a
        /// corrupt or unreadable file, within the source's max_bad_files).
        virtual void on_bad_file(const std::string& /*where*/, const std::string& /*reason*/) {}
    };

    virtual const std::string& name() const = 0;
    virtual const std::shared_ptr<const Schema>& schema() const = 0;
    /// Decodes everything into `sink`, in a deterministic order.
    virtual Status read(DecodeSink& sink, Listener* listener) = 0;
    /// Input units (files, partitions) and bytes read, for the run report.
    virtual std::size_t units() const = 0;
    virtual std::string unit_name() const = 0;  // "file", "partition"
    virtual uint64_t bytes_read() const = 0;
};

}  // namespace millrace
