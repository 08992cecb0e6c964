#include "formats/json_schema_inference.h"

#include <simdjson.h>

#include <unordered_map>

#include "types/time_codec.h"

namespace millrace {

namespace {

namespace od = simdjson::ondemand;

// What the values of one field looked like, widened as more are seen.
struct Observed {
    std::string name;
    bool any = false;  // a non-null value was seen
    bool all_bool = true;
    bool all_integer = true;
    bool all_number = true;
    bool all_date = true;
    bool all_timestamp = true;
    bool all_string = true;

    DataType type() const {
        if (!any) return DataType::kString;
        if (all_bool) return DataType::kBool;
        if (all_integer) return DataType::kInt64;
        if (all_number) return DataType::kFloat64;
        if (all_string && all_date) return DataType::kDate;
        if (all_string && all_timestamp) return DataType::kTimestamp;
        return DataType::kString;
    }
};

void observe(Observed& field, od::value value) {
    od::json_type type;
    if (value.type().get(type)) return;
    if (type == od::json_type::null) return;
    field.any = true;
    const bool is_bool = type == od::json_type::boolean;
    const bool is_number = type == od::json_type::number;
    const bool is_string = type == od::json_type::string;
    field.all_bool &= is_bool;
    field.all_number &= is_number;
    field.all_string &= is_string;
    if (is_number) {
        od::number_type number_type;
        if (value.get_number_type().get(number_type) ||
            number_type == od::number_type::floating_point_number) {
            field.all_integer = false;
        }
    } else {
        field.all_integer = false;
    }
    if (is_string) {
        std::string_view text;
        if (value.get_string().get(text)) {
            field.all_date = field.all_timestamp = false;
            return;
        }
        if (field.all_date && !parse_date(text)) field.all_date = false;
        if (field.all_timestamp && !parse_timestamp(text)) field.all_timestamp = false;
    } else {
        field.all_date = field.all_timestamp = false;
    }
}

}  // namespace

Result<Schema> infer_json_schema(std::string_view sample, std::size_t max_records) {
    std::vector<Observed> fields;
    std::unordered_map<std::string, std::size_t> index;
    std::size_t records = 0;
    od::parser parser;

    auto observe_object = [&](od::object object) {
        for (auto field_result : object) {
            od::field field;
            std::string_view key;
            if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return false;
            auto [it, inserted] = index.emplace(std::string(key), fields.size());
            if (inserted) fields.push_back(Observed{std::string(key)});
            observe(fields[it->second], field.value());
        }
        return true;
    };

    std::size_t first = 0;
    while (first < sample.size() && std::isspace(static_cast<unsigned char>(sample[first]))) {
        ++first;
    }
    if (first < sample.size() && sample[first] == '[') {
        simdjson::padded_string padded(sample);
        od::document document;
        od::array array;
        if (!parser.iterate(padded).get(document) && !document.get_array().get(array)) {
            for (auto element : array) {
                od::object object;
                if (element.get_object().get(object)) break;
                if (observe_object(object)) ++records;
                if (records >= max_records) break;
            }
        }
    } else {
        std::size_t pos = 0;
        std::string line;
        while (pos < sample.size() && records < max_records) {
            std::size_t end = sample.find('\n', pos);
            if (end == std::string_view::npos) end = sample.size();
            line.assign(sample.substr(pos, end - pos));
            pos = end + 1;
            simdjson::padded_string padded(line);
            od::document document;
            od::object object;
            if (parser.iterate(padded).get(document) || document.get_object().get(object)) {
                continue;
            }
            if (observe_object(object)) ++records;
        }
    }
    if (records == 0 || fields.empty()) {
        return Error(ErrorCode::kParse, "no JSON object could be read from the sample");
    }
    std::vector<Field> schema_fields;
    for (const Observed& field : fields) schema_fields.push_back({field.name, field.type(), true});
    return Schema::make(std::move(schema_fields));
}

}  // namespace millrace
