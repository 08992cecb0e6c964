#pragma once

#include <string>

#include "common/result.h"
#include "lineage/run_event.h"
#include "net/durable_outbox.h"

namespace millrace {

using LineageDelivery = OutboxDelivery;

/// The outbox of OpenLineage run events: a DurableOutbox in `<data_dir>/lineage/` (outbox/,
/// sent/, rejected/), one RunEvent JSON per file. Without a collector (`lineage:` has no url)
/// the outbox is the record: `millrace lineage` reads it.
class LineageOutbox : public DurableOutbox {
public:
    explicit LineageOutbox(const std::string& data_dir) : DurableOutbox(data_dir + "/lineage") {}

    using DurableOutbox::add;
    /// Writes the event durably into outbox/.
    Status add(const RunEvent& event) {
        return add(run_event_json(event), event.event_time_micros);
    }

    /// The files of every event kept (sent, then waiting), oldest first.
    std::vector<std::string> event_files() const { return message_files(); }
};

}  // namespace millrace
