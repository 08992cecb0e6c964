#include "project/project.h"

#include <cctype>

namespace millrace {

std::string_view enum_name(PipelineMode mode) {
    switch (mode) {
        case PipelineMode::kBatch:
            return "batch";
        case PipelineMode::kStreaming:
            return "streaming";
    }
    return "unknown";
}

std::string_view enum_name(SourceKind kind) {
    switch (kind) {
        case SourceKind::kTopic:
            return "topic";
        case SourceKind::kFile:
            return "file";
        case SourceKind::kKafka:
            return "kafka";
        case SourceKind::kGenerator:
            return "generator";
        case SourceKind::kLake:
            return "lake";
    }
    return "unknown";
}

std::string_view enum_name(DataFormat format) {
    switch (format) {
        case DataFormat::kJson:
            return "json";
        case DataFormat::kNdjson:
            return "ndjson";
        case DataFormat::kCsv:
            return "csv";
        case DataFormat::kParquet:
            return "parquet";
        case DataFormat::kAvro:
            return "avro";
        case DataFormat::kJsonSr:
            return "json_sr";
    }
    return "unknown";
}

std::string_view enum_name(OnRecordError action) {
    switch (action) {
        case OnRecordError::kDeadLetter:
            return "dead_letter";
        case OnRecordError::kDrop:
            return "drop";
        case OnRecordError::kFail:
            return "fail";
    }
    return "unknown";
}

std::string_view enum_name(CheckKind kind) {
    switch (kind) {
        case CheckKind::kNotNull:
            return "not_null";
        case CheckKind::kExpect:
            return "expect";
        case CheckKind::kAcceptedValues:
            return "accepted_values";
        case CheckKind::kRange:
            return "range";
        case CheckKind::kRegex:
            return "regex";
        case CheckKind::kRowCount:
            return "row_count";
        case CheckKind::kUnique:
            return "unique";
        case CheckKind::kFreshness:
            return "freshness";
        case CheckKind::kReferential:
            return "referential";
    }
    return "unknown";
}

std::string_view enum_name(CheckSeverity severity) {
    return severity == CheckSeverity::kError ? "error" : "warn";
}

std::string_view enum_name(CheckAction action) {
    switch (action) {
        case CheckAction::kDeadLetter:
            return "dead_letter";
        case CheckAction::kDrop:
            return "drop";
        case CheckAction::kWarn:
            return "warn";
        case CheckAction::kFail:
            return "fail";
    }
    return "unknown";
}

std::string_view enum_name(SinkKind kind) {
    switch (kind) {
        case SinkKind::kLake:
            return "lake";
        case SinkKind::kOnline:
            return "online";
        case SinkKind::kTopic:
            return "topic";
        case SinkKind::kFile:
            return "file";
        case SinkKind::kKafka:
            return "kafka";
        case SinkKind::kBlackhole:
            return "blackhole";
    }
    return "unknown";
}

std::optional<DataFormat> format_from_extension(std::string_view path) {
    const std::size_t slash = path.find_last_of('/');
    const std::size_t dot = path.find_last_of('.');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return std::nullopt;
    }
    std::string extension;
    for (char c : path.substr(dot + 1)) {
        extension += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (extension == "json") return DataFormat::kJson;
    if (extension == "ndjson" || extension == "jsonl") return DataFormat::kNdjson;
    if (extension == "csv") return DataFormat::kCsv;
    if (extension == "parquet") return DataFormat::kParquet;
    return std::nullopt;
}

SourceLocation SqlText::location_of(int line, int column) const {
    if (!origin.is_scalar()) return origin.location();
    return origin.location_in_scalar(line, column);
}

const SourceSpec* PipelineSpec::find_source(std::string_view source_name) const {
    for (const SourceSpec& source : sources) {
        if (source.name == source_name) return &source;
    }
    return nullptr;
}

const ViewSpec* PipelineSpec::find_view(std::string_view view_name) const {
    for (const ViewSpec& view : views) {
        if (view.name == view_name) return &view;
    }
    return nullptr;
}

const PipelineSpec* Project::find_pipeline(std::string_view pipeline_name) const {
    for (const PipelineSpec& pipeline : pipelines) {
        if (pipeline.name == pipeline_name) return &pipeline;
    }
    return nullptr;
}

}  // namespace millrace
