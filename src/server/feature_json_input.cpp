#include "server/feature_json_input.h"

#include <simdjson.h>

#include <cmath>
#include <cstdint>

#include "common/suggest.h"
#include "online/online_store.h"
#include "types/time_codec.h"
#include "types/value_cast.h"

namespace millrace {

namespace {

/// A JSON scalar as a Value (what convert_entity_key and the upsert conversions take).
std::optional<Value> json_scalar(simdjson::dom::element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::INT64:
            return Value::int64(int64_t(element));
        case simdjson::dom::element_type::UINT64:
            return std::nullopt;  // above int64
        case simdjson::dom::element_type::DOUBLE:
            return Value::float64(double(element));
        case simdjson::dom::element_type::STRING:
            return Value::string(std::string(std::string_view(element)));
        case simdjson::dom::element_type::BOOL:
            return Value::boolean(bool(element));
        case simdjson::dom::element_type::NULL_VALUE:
            return Value();
        default:
            return std::nullopt;
    }
}

std::string json_kind(simdjson::dom::element element) {
    switch (element.type()) {
        case simdjson::dom::element_type::ARRAY:
            return "an array";
        case simdjson::dom::element_type::OBJECT:
            return "an object";
        case simdjson::dom::element_type::UINT64:
            return "a number above the int64 range";
        default:
            return "a " + std::string(simdjson::minify(element));
    }
}

}  // namespace

std::optional<int64_t> timestamp_from_json(simdjson::dom::element element) {
    using simdjson::dom::element_type;
    switch (element.type()) {
        case element_type::INT64:
            return epoch_number_to_micros(int64_t(element));
        case element_type::DOUBLE:
            return epoch_number_to_micros(double(element));
        case element_type::STRING:
            return parse_timestamp(std::string_view(element));
        default:
            return std::nullopt;
    }
}

std::optional<std::string> append_entity_key(const EntityKey& entity, simdjson::dom::element field,
                                             std::vector<Value>& key) {
    if (entity.type == DataType::kTimestamp &&
        field.type() != simdjson::dom::element_type::STRING) {
        // A number is an epoch number, by the same unit rule as event times.
        if (std::optional<int64_t> micros = timestamp_from_json(field)) {
            key.push_back(Value::timestamp(*micros));
            return std::nullopt;
        }
    }
    std::optional<Value> scalar = json_scalar(field);
    if (!scalar || scalar->is_null()) {
        return "key `" + entity.name + "` must be " + std::string(type_name(entity.type)) +
               ", got " + json_kind(field);
    }
    Result<Value> value = convert_entity_key(entity, *scalar);
    if (!value.ok()) return value.error().message();
    key.push_back(std::move(value).value());
    return std::nullopt;
}

Result<Value> feature_from_json(const FeatureSpec& feature, simdjson::dom::element element) {
    using simdjson::dom::element_type;
    const element_type kind = element.type();
    if (kind == element_type::NULL_VALUE) return Value();
    auto refuse = [&]() -> Result<Value> {
        return Error(ErrorCode::kInvalidArgument,
                     "feature " + backticks(feature.name) + " must be " +
                         std::string(type_name(feature.type)) + ", got " +
                         std::string(simdjson::minify(element)));
    };
    switch (feature.type) {
        case DataType::kBool:
            if (kind == element_type::BOOL) return Value::boolean(bool(element));
            return refuse();
        case DataType::kInt32:
        case DataType::kInt64: {
            int64_t value = 0;
            if (kind == element_type::INT64) {
                value = int64_t(element);
            } else if (kind == element_type::DOUBLE) {
                const double d = double(element);
                if (!(d == std::floor(d)) || d < -9.2e18 || d > 9.2e18) return refuse();
                value = static_cast<int64_t>(d);
            } else {
                return refuse();
            }
            if (feature.type == DataType::kInt64) return Value::int64(value);
            if (value < INT32_MIN || value > INT32_MAX) return refuse();
            return Value::int32(static_cast<int32_t>(value));
        }
        case DataType::kFloat64:
            if (kind == element_type::DOUBLE) return Value::float64(double(element));
            if (kind == element_type::INT64) {
                return Value::float64(static_cast<double>(int64_t(element)));
            }
            if (kind == element_type::UINT64) {
                return Value::float64(static_cast<double>(uint64_t(element)));
            }
            return refuse();
        case DataType::kString:
        case DataType::kBytes:
            if (kind == element_type::STRING) {
                std::string text{std::string_view(element)};
                return feature.type == DataType::kString ? Value::string(std::move(text))
                                                         : Value::bytes(std::move(text));
            }
            return refuse();
        case DataType::kTimestamp:
            if (auto micros = timestamp_from_json(element)) return Value::timestamp(*micros);
            return refuse();
        case DataType::kDate:
            if (kind == element_type::STRING) {
                if (auto days = parse_date(std::string_view(element))) return Value::date(*days);
            }
            return refuse();
    }
    return refuse();
}

}  // namespace millrace
