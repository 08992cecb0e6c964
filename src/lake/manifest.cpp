#include "lake/manifest.h"

#include <simdjson.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "common/json_string.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

std::string value_text(const Value& v) {
    switch (v.type()) {
        case DataType::kBool:
            return v.as_bool() ? "true" : "false";
        case DataType::kInt32:
        case DataType::kDate:
            return std::to_string(v.as_int32());
        case DataType::kInt64:
        case DataType::kTimestamp:
            return std::to_string(v.as_int64());
        case DataType::kFloat64: {
            char buffer[40];
            std::snprintf(buffer, sizeof(buffer), "%.17g", v.as_double());
            return buffer;
        }
        case DataType::kString:
            return v.as_string();
        case DataType::kBytes: {
            static const char* hex = "0123456789abcdef";
            std::string out;
            for (unsigned char c : v.as_string()) {
                out.push_back(hex[c >> 4]);
                out.push_back(hex[c & 15]);
            }
            return out;
        }
    }
    return "";
}

Value parse_value(DataType type, std::string_view text) {
    const std::string s(text);
    char* end = nullptr;
    switch (type) {
        case DataType::kBool:
            return Value::boolean(s == "true");
        case DataType::kInt32:
        case DataType::kDate: {
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (end == s.c_str() || v < INT32_MIN || v > INT32_MAX) return Value();
            return type == DataType::kDate ? Value::date(static_cast<int32_t>(v))
                                           : Value::int32(static_cast<int32_t>(v));
        }
        case DataType::kInt64:
        case DataType::kTimestamp: {
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (end == s.c_str()) return Value();
            return type == DataType::kTimestamp ? Value::timestamp(v) : Value::int64(v);
        }
        case DataType::kFloat64: {
            const double v = std::strtod(s.c_str(), &end);
            if (end == s.c_str()) return Value();
            return Value::float64(v);
        }
        case DataType::kString:
            return Value::string(s);
        case DataType::kBytes: {
            if (s.size() % 2 != 0) return Value();
            std::string out;
            for (std::size_t i = 0; i < s.size(); i += 2) {
                out.push_back(static_cast<char>(std::strtoul(s.substr(i, 2).c_str(), nullptr, 16)));
            }
            return Value::bytes(out);
        }
    }
    return Value();
}

std::string timestamp_text(int64_t micros) {
    std::string out;
    append_timestamp(out, micros);
    return out;
}

}  // namespace

uint64_t Manifest::total_rows() const {
    uint64_t total = 0;
    for (const DataFile& f : files) total += f.rows;
    // Rows a position delete file deletes are not live (Millrace's delete files hold each
    // position once; equality deletes cannot be counted without reading the files).
    for (const DataFile& f : deletes) {
        if (f.content == DataFile::Content::kPositionDeletes) total -= std::min(total, f.rows);
    }
    return total;
}

uint64_t Manifest::total_bytes() const {
    uint64_t total = 0;
    for (const DataFile& f : files) total += f.bytes;
    return total;
}

std::string Manifest::to_json(const Schema& schema) const {
    std::string out = "{\"format\": 1, \"snapshot_id\": " + std::to_string(snapshot_id) +
                      ", \"parent_id\": " + std::to_string(parent_id) + ", \"committed_at\": \"" +
                      timestamp_text(committed_at_micros) +
                      "\", \"committed_at_micros\": " + std::to_string(committed_at_micros) +
                      ", \"operation\": ";
    append_json_string(out, operation);
    out += ", \"schema\": ";
    append_json_string(out, schema_text);
    out += ", \"partition_by\": [";
    for (std::size_t i = 0; i < partition_by.size(); ++i) {
        if (i > 0) out += ", ";
        append_json_string(out, partition_by[i]);
    }
    out += "], \"writers\": {";
    bool first = true;
    for (const auto& [writer, checkpoint] : writers) {
        if (!first) out += ", ";
        first = false;
        append_json_string(out, writer);
        out += ": " + std::to_string(checkpoint);
    }
    out += "}";
    if (!progress.empty()) {
        out += ", \"progress\": {";
        first = true;
        for (const auto& [writer, state] : progress) {
            if (!first) out += ", ";
            first = false;
            append_json_string(out, writer);
            out += ": ";
            append_json_string(out, state);
        }
        out += "}";
    }
    out += ",\n \"files\": [";
    for (std::size_t i = 0; i < files.size(); ++i) {
        const DataFile& f = files[i];
        out += i > 0 ? ",\n  {\"path\": " : "\n  {\"path\": ";
        append_json_string(out, f.path);
        out += ", \"partition\": {";
        for (std::size_t p = 0; p < f.partition.size(); ++p) {
            if (p > 0) out += ", ";
            append_json_string(out, f.partition[p].first);
            out += ": ";
            append_json_string(out, f.partition[p].second);
        }
        out += "}, \"rows\": " + std::to_string(f.rows) + ", \"bytes\": " + std::to_string(f.bytes);
        if (f.content == DataFile::Content::kEqualityDeletes) {
            out += ", \"equality_ids\": [";
            for (std::size_t k = 0; k < f.equality_ids.size(); ++k) {
                out += (k > 0 ? ", " : "") + std::to_string(f.equality_ids[k]);
            }
            out += "]";
        }
        out += ", \"columns\": {";
        for (std::size_t c = 0; c < f.columns.size() && c < schema.size(); ++c) {
            if (c > 0) out += ", ";
            append_json_string(out, schema.field(c).name);
            const ColumnStatistics& s = f.columns[c];
            out += ": {";
            if (s.has_min_max()) {
                out += "\"min\": ";
                append_json_string(out, value_text(s.min));
                out += ", \"max\": ";
                append_json_string(out, value_text(s.max));
                out += ", ";
            }
            out += "\"nulls\": " + std::to_string(s.null_count) + "}";
        }
        out += "}}";
    }
    out += "]}\n";
    return out;
}

Result<Schema> manifest_schema(const Manifest& manifest) {
    return parse_schema_spec(manifest.schema_text);
}

Result<Manifest> Manifest::parse(std::string_view json, const std::string& source) {
    auto corrupt = [&](const std::string& what) {
        return Error(ErrorCode::kCorruption, source + ": " + what);
    };
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
        return corrupt("not a JSON manifest");
    }
    Manifest m;
    uint64_t u = 0;
    int64_t i = 0;
    std::string_view text;
    if (root["snapshot_id"].get(u) != simdjson::SUCCESS) return corrupt("no snapshot_id");
    m.snapshot_id = u;
    if (root["parent_id"].get(u) == simdjson::SUCCESS) m.parent_id = u;
    if (root["committed_at_micros"].get(i) == simdjson::SUCCESS) m.committed_at_micros = i;
    if (root["operation"].get(text) == simdjson::SUCCESS) m.operation = std::string(text);
    if (root["schema"].get(text) != simdjson::SUCCESS) return corrupt("no schema");
    m.schema_text = std::string(text);
    auto schema = parse_schema_spec(m.schema_text);
    if (!schema.ok()) return corrupt("bad schema `" + m.schema_text + "`");
    simdjson::dom::array array;
    if (root["partition_by"].get(array) == simdjson::SUCCESS) {
        for (auto item : array) {
            if (item.get(text) != simdjson::SUCCESS) return corrupt("bad partition_by");
            m.partition_by.emplace_back(text);
        }
    }
    simdjson::dom::object object;
    if (root["writers"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            if (field.value.get(u) != simdjson::SUCCESS) return corrupt("bad writers");
            m.writers[std::string(field.key)] = u;
        }
    }
    if (root["progress"].get(object) == simdjson::SUCCESS) {
        for (auto field : object) {
            if (field.value.get(text) != simdjson::SUCCESS) return corrupt("bad progress");
            m.progress[std::string(field.key)] = std::string(text);
        }
    }
    if (root["files"].get(array) != simdjson::SUCCESS) return corrupt("no files");
    for (auto entry : array) {
        DataFile f;
        if (entry["path"].get(text) != simdjson::SUCCESS) return corrupt("a file without a path");
        f.path = std::string(text);
        if (f.path.empty() || f.path[0] == '/' || f.path.find("..") != std::string::npos) {
            return corrupt("file path `" + f.path + "` leaves the table folder");
        }
        if (entry["rows"].get(u) != simdjson::SUCCESS) return corrupt("a file without rows");
        f.rows = u;
        if (entry["bytes"].get(u) == simdjson::SUCCESS) f.bytes = u;
        if (entry["partition"].get(object) == simdjson::SUCCESS) {
            for (auto field : object) {
                if (field.value.get(text) != simdjson::SUCCESS) return corrupt("bad partition");
                f.partition.emplace_back(std::string(field.key), std::string(text));
            }
        }
        if (entry["equality_ids"].get(array) == simdjson::SUCCESS) {
            // An equality delete file (upsert): key rows, no column statistics.
            f.content = DataFile::Content::kEqualityDeletes;
            for (auto id : array) {
                if (id.get(i) != simdjson::SUCCESS || i < 1) return corrupt("bad equality_ids");
                f.equality_ids.push_back(static_cast<int32_t>(i));
            }
            m.files.push_back(std::move(f));
            continue;
        }
        f.columns.resize(schema->size());
        simdjson::dom::object columns;
        if (entry["columns"].get(columns) == simdjson::SUCCESS) {
            for (std::size_t c = 0; c < schema->size(); ++c) {
                ColumnStatistics& s = f.columns[c];
                s.row_count = f.rows;
                simdjson::dom::object stats;
                if (columns[schema->field(c).name].get(stats) != simdjson::SUCCESS) continue;
                if (stats["nulls"].get(u) == simdjson::SUCCESS) s.null_count = u;
                std::string_view lo, hi;
                if (stats["min"].get(lo) == simdjson::SUCCESS &&
                    stats["max"].get(hi) == simdjson::SUCCESS) {
                    s.min = parse_value(schema->field(c).type, lo);
                    s.max = parse_value(schema->field(c).type, hi);
                    if (s.min.is_null() || s.max.is_null()) s.min = s.max = Value();
                }
            }
        }
        m.files.push_back(std::move(f));
    }
    return m;
}

}  // namespace millrace
