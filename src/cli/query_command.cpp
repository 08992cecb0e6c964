#include "cli/query_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "formats/json_encoder.h"
#include "pipeline/lake_query.h"
#include "project/project_loader.h"
#include "types/value.h"

namespace millrace {

namespace {

/// Prints rows as they come (csv, json) or collects them for an aligned table.
class Printer final : public BatchSink {
public:
    explicit Printer(std::string format) : format_(std::move(format)) {}
    Status set_schema(const Schema& schema) {
        names_.clear();
        for (const Field& f : schema.fields()) names_.push_back(f.name);
        if (format_ == "csv") {
            std::string header;
            CsvEncoder(CsvOptions{}).write_header(schema, header);
            std::fputs(header.c_str(), stdout);
        }
        return {};
    }
    Status push(Batch batch) override {
        rows_ += batch.num_rows();
        std::string out;
        if (format_ == "csv") {
            CsvEncoder(CsvOptions{}).encode(batch, out);
            std::fputs(out.c_str(), stdout);
        } else if (format_ == "json") {
            JsonEncoder().encode(batch, out);
            std::fputs(out.c_str(), stdout);
        } else {
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                std::vector<std::string> row;
                for (std::size_t c = 0; c < batch.num_columns(); ++c)
                    row.push_back(batch.value_at(r, c).to_string());
                table_.push_back(std::move(row));
            }
        }
        return {};
    }
    Status finish() override {
        if (format_ != "table") return {};
        std::vector<std::size_t> widths;
        for (const auto& n : names_) widths.push_back(n.size());
        for (const auto& row : table_) {
            for (std::size_t c = 0; c < row.size(); ++c)
                widths[c] = std::max(widths[c], row[c].size());
        }
        auto line = [&](const std::vector<std::string>& cells) {
            std::string out;
            for (std::size_t c = 0; c < cells.size(); ++c) {
                if (c > 0) out += "  ";
                out += cells[c];
                if (c + 1 < cells.size()) out.append(widths[c] - cells[c].size(), ' ');
            }
            std::puts(out.c_str());
        };
        line(names_);
        std::vector<std::string> rule;
        for (std::size_t w : widths) rule.push_back(std::string(w, '-'));
        line(rule);
        for (const auto& row : table_) line(row);
        std::printf("(%zu row%s)\n", static_cast<std::size_t>(rows_), rows_ == 1 ? "" : "s");
        return {};
    }

private:
    std::string format_;
    std::vector<std::string> names_;
    std::vector<std::vector<std::string>> table_;
    uint64_t rows_ = 0;
};

}  // namespace

int run_query(const QueryOptions& options) {
    if (options.format != "table" && options.format != "csv" && options.format != "json") {
        std::fprintf(stderr, "error: --format must be table, csv or json\n");
        return 1;
    }
    std::string data_dir = options.data_dir;
    if (data_dir.empty()) {
        std::vector<Error> errors;
        auto project = load_project(options.project.empty() ? "." : options.project, &errors);
        if (!project.ok()) {
            std::fprintf(stderr, "%s\n(give --data-dir or --project)\n",
                         project.error().to_string().c_str());
            return 1;
        }
        data_dir = project->data_dir;
    }
    Printer printer(options.format);
    Status status = query_lake(
        data_dir, options.sql, [&](const Schema& schema) { return printer.set_schema(schema); },
        printer);
    if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.error().to_string().c_str());
        return 1;
    }
    return 0;
}

}  // namespace millrace
