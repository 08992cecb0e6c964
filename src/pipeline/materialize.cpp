#include "pipeline/materialize.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_string.h"
#include "connectors/feature_writer.h"
#include "lake/lake_table.h"
#include "online/feature_view.h"
#include "project/project.h"
#include "types/batch.h"

namespace millrace {

Result<MaterializeReport> materialize_view(const Project& project, const FeatureView& view,
                                           FeatureWriter& writer,
                                           const MaterializeOptions& options) {
    const auto started = std::chrono::steady_clock::now();
    if (view.source != FeatureSourceKind::kLake) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("feature view `{}` is filled by pipeline `{}` (its online sink), "
                                 "not from a lake table; run that pipeline instead",
                                 view.name, view.pipeline),
                     view.location);
    }
    Result<LakeTable> opened = LakeTable::open(project.data_dir, view.lake_table);
    if (!opened.ok()) {
        if (opened.error().code() == ErrorCode::kNotFound) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("lake table `{}` (the source of feature view `{}`) does not "
                                     "exist yet; run the pipeline that writes it first",
                                     view.lake_table, view.name),
                         view.location);
        }
        return std::move(opened).error();
    }
    const LakeTable& table = *opened;
    const Schema& schema = *table.schema();

    LakeTable::ScanOptions scan;
    auto need = [&](const std::string& column, std::string_view role) -> Status {
        if (!schema.index_of(column)) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("feature view `{}`: {} `{}` is not a column of lake table "
                                     "`{}` ({})",
                                     view.name, role, column, view.lake_table, schema.to_string()),
                         view.location);
        }
        scan.columns.push_back(column);
        return {};
    };
    for (const EntityKey& key : view.entities) MILLRACE_TRY(need(key.name, "the entity key"));
    for (const FeatureSpec& feature : view.features) MILLRACE_TRY(need(feature.name, "feature"));
    if (!view.event_time.empty()) MILLRACE_TRY(need(view.event_time, "the event_time column"));
    if (options.since_us) {
        if (view.event_time.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("--since needs an event_time column; feature view `{}` "
                                     "has none (add `event_time:` to its lake source)",
                                     view.name),
                         view.location);
        }
        scan.predicates.push_back(
            ColumnPredicate{view.event_time, CompareOp::kGe, Value::timestamp(*options.since_us)});
    }

    MaterializeReport report;
    report.view = view.name;
    report.table = view.lake_table;
    std::optional<UpsertColumns> columns;
    auto on_batch = [&](Batch batch) -> Status {
        if (!columns) {
            MILLRACE_ASSIGN_OR_RETURN(columns,
                                      match_upsert_columns(view, batch.schema(), view.event_time));
        }
        if (options.since_us) {  // statistics only skip files; filter the rows
            const int time = columns->event_time_column;
            const Column& column = batch.column(time);
            const bool is_date = batch.schema().field(time).type == DataType::kDate;
            std::vector<uint32_t> keep;
            for (std::size_t row = 0; row < batch.num_rows(); ++row) {
                if (column.is_null(row)) continue;
                const int64_t t = is_date ? int64_t{column.values<int32_t>()[row]} * 86'400'000'000
                                          : column.values<int64_t>()[row];
                if (t >= *options.since_us) keep.push_back(static_cast<uint32_t>(row));
            }
            if (keep.size() != batch.num_rows()) batch = batch.take(keep);
        }
        if (batch.num_rows() == 0) return {};
        report.rows_read += batch.num_rows();
        MILLRACE_ASSIGN_OR_RETURN(UpsertCounts counts, writer.upsert(view, batch, *columns));
        report.rows_written += static_cast<uint64_t>(counts.rows);
        report.rows_rejected += static_cast<uint64_t>(counts.rejected);
        for (const UpsertCounts::Reject& reject : counts.rejects) {
            if (report.first_rejects.size() >= 5) break;
            report.first_rejects.push_back(reject.reason);
        }
        return {};
    };
    MILLRACE_ASSIGN_OR_RETURN(LakeTable::ScanStats stats, table.scan(scan, on_batch));
    MILLRACE_TRY(writer.flush());
    report.snapshot_id = stats.snapshot_id;
    report.files = stats.files;
    report.files_skipped = stats.files_skipped;
    report.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started);
    return report;
}

std::string materialize_report_json(const MaterializeReport& report) {
    std::string out = "{\"view\":";
    append_json_string(out, report.view);
    out += ",\"table\":";
    append_json_string(out, report.table);
    out += fmt::format(
        ",\"snapshot_id\":{},\"files\":{},\"files_skipped\":{},\"rows_read\":{},"
        "\"rows_written\":{},\"rows_rejected\":{},\"rejects\":[",
        report.snapshot_id, report.files, report.files_skipped, report.rows_read,
        report.rows_written, report.rows_rejected);
    for (std::size_t i = 0; i < report.first_rejects.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, report.first_rejects[i]);
    }
    out += fmt::format("],\"seconds\":{:.3f}}}", report.duration.count() / 1e6);
    return out;
}

Result<MaterializeReport> parse_materialize_report(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
        return Error(ErrorCode::kParse,
                     fmt::format("not a materialize report: {}", json.substr(0, 200)));
    }
    MaterializeReport report;
    std::string_view text;
    if (root["view"].get(text) == simdjson::SUCCESS) report.view = std::string(text);
    if (root["table"].get(text) == simdjson::SUCCESS) report.table = std::string(text);
    uint64_t number = 0;
    if (root["snapshot_id"].get(number) == simdjson::SUCCESS) report.snapshot_id = number;
    if (root["files"].get(number) == simdjson::SUCCESS) report.files = number;
    if (root["files_skipped"].get(number) == simdjson::SUCCESS) report.files_skipped = number;
    if (root["rows_read"].get(number) == simdjson::SUCCESS) report.rows_read = number;
    if (root["rows_written"].get(number) == simdjson::SUCCESS) report.rows_written = number;
    if (root["rows_rejected"].get(number) == simdjson::SUCCESS) report.rows_rejected = number;
    simdjson::dom::array rejects;
    if (root["rejects"].get(rejects) == simdjson::SUCCESS) {
        for (simdjson::dom::element reject : rejects) {
            if (reject.get(text) == simdjson::SUCCESS) {
                report.first_rejects.emplace_back(text);
            }
        }
    }
    double seconds = 0;
    if (root["seconds"].get(seconds) == simdjson::SUCCESS) {
        report.duration = std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
    }
    return report;
}

std::string format_materialize_report(const MaterializeReport& report) {
    std::string out = fmt::format(
        "{} <- lake table {} (snapshot {}): {} rows read, {} upserted, {} rejected; {} file(s) "
        "read, {} skipped; {:.2f} s",
        report.view, report.table, report.snapshot_id, report.rows_read, report.rows_written,
        report.rows_rejected, report.files - std::min(report.files, report.files_skipped),
        report.files_skipped, report.duration.count() / 1e6);
    for (const std::string& reject : report.first_rejects) {
        out += fmt::format("\n    rejected: {}", reject);
    }
    return out;
}

}  // namespace millrace
