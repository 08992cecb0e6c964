#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "types/data_type.h"

namespace millrace {

/// One named, typed column of a Schema.
struct Field {
    std::string name;
    DataType type = DataType::kString;
    bool nullable = true;

    bool operator==(const Field&) const = default;
};

/// An ordered list of uniquely named fields. Immutable once built; shared between Batches
/// through std::shared_ptr<const Schema>.
///
/// The compact column spec used in pipeline YAML is `<type> [not null | null]`, e.g.
/// `amount: double not null` (see parse_field_spec).
class Schema {
public:
    Schema() = default;
    explicit Schema(std::vector<Field> fields);

    /// Builds a schema, rejecting empty and duplicate names.
    static Result<Schema> make(std::vector<Field> fields);

    std::size_t size() const { return fields_.size(); }
    bool empty() const { return fields_.empty(); }
    const Field& field(std::size_t index) const { return fields_[index]; }
    const std::vector<Field>& fields() const { return fields_; }

    /// Index of the field with exactly this name.
    std::optional<std::size_t> index_of(std::string_view name) const;

    /// `{ order_id: string not null, amount: double }`
    std::string to_string() const;

    bool operator==(const Schema& other) const { return fields_ == other.fields_; }

private:
    std::vector<Field> fields_;
};

/// Parses the compact spec of one column, e.g. "double not null". On error the location's
/// column is the 1-based position inside `spec` of the offending word (file and line empty),
/// so a config loader can add it to the position of the YAML scalar.
Result<Field> parse_field_spec(std::string_view name, std::string_view spec);

/// Parses a whole schema in one line, as given on the command line:
/// "order_id: string not null, amount: double". Error columns are positions in `text`.
Result<Schema> parse_schema_spec(std::string_view text);

}  // namespace millrace
