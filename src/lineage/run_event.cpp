#include "lineage/run_event.h"

#include <fmt/format.h>

#include <random>

#include "common/json_string.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

constexpr std::string_view kSchemaFacetUrl =
    "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet";
constexpr std::string_view kSqlFacetUrl =
    "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet";
constexpr std::string_view kErrorFacetUrl =
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/"
    "ErrorMessageRunFacet";
constexpr std::string_view kParentFacetUrl =
    "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet";
constexpr std::string_view kOutputStatisticsFacetUrl =
    "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/"
    "OutputStatisticsOutputDatasetFacet";
constexpr std::string_view kColumnLineageFacetUrl =
    "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/"
    "ColumnLineageDatasetFacet";
constexpr std::string_view kJobTypeFacetUrl =
    "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";
constexpr std::string_view kDocumentationFacetUrl =
    "https://openlineage.io/spec/facets/1-1-0/DocumentationJobFacet.json#/$defs/"
    "DocumentationJobFacet";

// `"name":{"_producer":...,"_schemaURL":...` — the caller appends the facet's own fields and
// the closing brace.
void open_facet(std::string& out, std::string_view name, std::string_view schema_url) {
    append_json_string(out, name);
    out += ":{\"_producer\":";
    append_json_string(out, kLineageProducer);
    out += ",\"_schemaURL\":";
    append_json_string(out, schema_url);
}

// `"columnLineage":{...}` when some field names its input fields; nothing otherwise.
void append_column_lineage(std::string& out, const std::vector<LineageField>& fields) {
    bool any = false;
    for (const LineageField& field : fields) any = any || !field.inputs.empty();
    if (!any) return;
    out += ',';
    open_facet(out, "columnLineage", kColumnLineageFacetUrl);
    out += ",\"fields\":{";
    bool first = true;
    for (const LineageField& field : fields) {
        if (field.inputs.empty()) continue;
        if (!first) out += ',';
        first = false;
        append_json_string(out, field.name);
        out += ":{\"inputFields\":[";
        for (std::size_t i = 0; i < field.inputs.size(); ++i) {
            const LineageInputField& input = field.inputs[i];
            if (i > 0) out += ',';
            out += "{\"namespace\":";
            append_json_string(out, input.name_space);
            out += ",\"name\":";
            append_json_string(out, input.name);
            out += ",\"field\":";
            append_json_string(out, input.field);
            out += ",\"transformations\":[{\"type\":\"DIRECT\",\"subtype\":";
            append_json_string(out, input.subtype);
            out += ",\"description\":\"\",\"masking\":false}]}";
        }
        out += "]}";
    }
    out += "}}";
}

void append_datasets(std::string& out, const std::vector<LineageDataset>& datasets, bool outputs) {
    out += '[';
    bool first = true;
    for (const LineageDataset& dataset : datasets) {
        if (!first) out += ',';
        first = false;
        out += "{\"namespace\":";
        append_json_string(out, dataset.name_space);
        out += ",\"name\":";
        append_json_string(out, dataset.name);
        out += ",\"facets\":{";
        if (!dataset.fields.empty()) {
            open_facet(out, "schema", kSchemaFacetUrl);
            out += ",\"fields\":[";
            for (std::size_t i = 0; i < dataset.fields.size(); ++i) {
                if (i > 0) out += ',';
                out += "{\"name\":";
                append_json_string(out, dataset.fields[i].name);
                out += ",\"type\":";
                append_json_string(out, dataset.fields[i].type);
                out += '}';
            }
            out += "]}";
            if (outputs) append_column_lineage(out, dataset.fields);
        }
        out += '}';
        if (outputs && dataset.row_count) {
            out += ",\"outputFacets\":{";
            open_facet(out, "outputStatistics", kOutputStatisticsFacetUrl);
            out += fmt::format(",\"rowCount\":{}}}}}", *dataset.row_count);
        }
        out += '}';
    }
    out += ']';
}

std::string format_uuid(uint64_t high, uint64_t low) {
    return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xffff,
                       high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

// Lays out a UUIDv7: 48 bits of milliseconds, version 7, 12 bits of `a`, variant 10, 62 bits
// of `b`.
std::string uuid_v7(int64_t unix_millis, uint64_t a, uint64_t b) {
    const uint64_t millis = static_cast<uint64_t>(unix_millis < 0 ? 0 : unix_millis);
    const uint64_t high = ((millis & 0xffffffffffffULL) << 16) | 0x7000 | (a & 0x0fff);
    const uint64_t low = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    return format_uuid(high, low);
}

uint64_t fnv1a(std::string_view text, uint64_t seed) {
    uint64_t hash = 0xcbf29ce484222325ULL ^ seed;
    for (unsigned char c : text) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    // A final mix so that names differing in one character differ in every bit.
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdULL;
    hash ^= hash >> 33;
    return hash;
}

}  // namespace

std::string_view enum_name(RunEventType type) {
    switch (type) {
        case RunEventType::kStart:
            return "START";
        case RunEventType::kComplete:
            return "COMPLETE";
        case RunEventType::kFail:
            return "FAIL";
    }
    return "OTHER";
}

std::string run_event_json(const RunEvent& event) {
    std::string out = "{\"eventType\":";
    append_json_string(out, enum_name(event.type));
    out += ",\"eventTime\":";
    append_json_string(out, format_timestamp(event.event_time_micros));
    out += ",\"producer\":";
    append_json_string(out, kLineageProducer);
    out += ",\"schemaURL\":";
    append_json_string(out, kRunEventSchemaUrl);

    out += ",\"run\":{\"runId\":";
    append_json_string(out, event.run_id);
    out += ",\"facets\":{";
    bool first_facet = true;
    if (event.parent) {
        open_facet(out, "parent", kParentFacetUrl);
        out += ",\"run\":{\"runId\":";
        append_json_string(out, event.parent->run_id);
        out += "},\"job\":{\"namespace\":";
        append_json_string(out, event.parent->job_namespace);
        out += ",\"name\":";
        append_json_string(out, event.parent->job_name);
        out += "}}";
        first_facet = false;
    }
    if (event.type == RunEventType::kFail) {
        if (!first_facet) out += ',';
        open_facet(out, "errorMessage", kErrorFacetUrl);
        out += ",\"message\":";
        append_json_string(out, event.error_message.empty() ? "failed" : event.error_message);
        out += ",\"programmingLanguage\":\"C++\"}";
    }
    out += "}}";

    out += ",\"job\":{\"namespace\":";
    append_json_string(out, event.job_namespace);
    out += ",\"name\":";
    append_json_string(out, event.job_name);
    out += ",\"facets\":{";
    open_facet(out, "jobType", kJobTypeFacetUrl);
    out += ",\"processingType\":";
    append_json_string(out, event.processing_type.empty() ? "BATCH" : event.processing_type);
    out += ",\"integration\":\"MILLRACE\",\"jobType\":";
    append_json_string(out, event.job_type);
    out += '}';
    if (!event.description.empty()) {
        out += ',';
        open_facet(out, "documentation", kDocumentationFacetUrl);
        out += ",\"description\":";
        append_json_string(out, event.description);
        out += '}';
    }
    if (!event.sql.empty()) {
        out += ',';
        open_facet(out, "sql", kSqlFacetUrl);
        out += ",\"query\":";
        append_json_string(out, event.sql);
        out += '}';
    }
    out += "}}";

    out += ",\"inputs\":";
    append_datasets(out, event.inputs, false);
    out += ",\"outputs\":";
    append_datasets(out, event.outputs, true);
    out += '}';
    return out;
}

std::string new_uuid_v7(int64_t unix_millis) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    return uuid_v7(unix_millis, random(), random());
}

std::string uuid_v7_for_name(std::string_view name, int64_t unix_millis) {
    return uuid_v7(unix_millis, fnv1a(name, 0), fnv1a(name, 0x9e3779b97f4a7c15ULL));
}

}  // namespace millrace
