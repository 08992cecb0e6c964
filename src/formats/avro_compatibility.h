#pragma once

#include <optional>
#include <string>

#include "formats/avro_schema.h"

namespace millrace {

/// Whether data written with `writer` can be read with `reader` under Avro's schema resolution
/// rules (Avro 1.11 specification, "Schema Resolution"): the same primitive or a promotion (int
/// to long, float or double; long to float or double; float to double; string and bytes either
/// way); records of the same (unqualified) name whose reader fields the writer has (readable) or
/// that have a default; enums whose writer symbols the reader knows; arrays, maps and fixed of
/// readable items, values or the same size; a writer union whose every branch the reader reads;
/// a reader union with a branch that reads the writer. nullopt when it can, else the first reason
/// it cannot, with the path to it ("field `amount`: long cannot be read as int").
std::optional<std::string> avro_incompatibility(const AvroNode& reader, const AvroNode& writer);

}  // namespace millrace
