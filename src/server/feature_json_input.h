#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "online/feature_view.h"
#include "types/value.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace millrace {

/// The one conversion of JSON request values into entity keys and stored features, used by
/// every serving route that takes JSON (batch reads, upserts, the Feast protocol).
///
/// Timestamps (event_timestamp, timestamp features, timestamp entity keys) are an RFC 3339
/// string or an epoch number whose unit is told by its magnitude (epoch_number_to_micros in
/// types/time_codec.h, the rule every JSON reader in Millrace follows): |n| < 1e11 seconds,
/// < 1e14 milliseconds, otherwise microseconds, so 1704067200, 1704067200000 and
/// 1704067200000000 are the same instant. docs/serving.md states the rule for users.

/// A JSON number or RFC 3339 string as epoch microseconds; nullopt for any other JSON value or
/// a time outside years 0001..9999.
std::optional<int64_t> timestamp_from_json(simdjson::dom::element element);

/// Appends the entity key in JSON `field` to `key`, converted to the entity's type; the reason
/// when it cannot be (a non-scalar, null, or a value of the wrong type).
std::optional<std::string> append_entity_key(const EntityKey& entity, simdjson::dom::element field,
                                             std::vector<Value>& key);

/// A JSON value as a stored feature of `feature.type` (null stays null); kInvalidArgument naming
/// the feature otherwise.
Result<Value> feature_from_json(const FeatureSpec& feature, simdjson::dom::element element);

}  // namespace millrace
