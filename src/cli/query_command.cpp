#include "cli/query_command.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "cli/generate_command.h"
#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "formats/json_encoder.h"
#include "pipeline/lake_query.h"
#include "pipeline/pipeline_catalog.h"
#include "project/project_loader.h"
#include "types/value.h"

namespace millrace {

namespace {

/// Renders the query's rows into a spool (an anonymous temporary file) and prints them only
/// when the whole query succeeded: a query that fails prints no rows, however far it got, and
/// a large result sits on disk rather than in memory. The table format spools cells and widens
/// its columns as rows come, then aligns them on the way out.
class Printer final : public BatchSink {
public:
    explicit Printer(std::string format) : format_(std::move(format)), spool_(std::tmpfile()) {}
    ~Printer() override {
        if (spool_ != nullptr) std::fclose(spool_);
    }
    Printer(const Printer&) = delete;
    Printer& operator=(const Printer&) = delete;

    Status set_schema(const Schema& schema) {
        if (spool_ == nullptr)
            return Error(ErrorCode::kIo, "cannot create a temporary file for the query's result");
        names_.clear();
        for (const Field& f : schema.fields()) names_.push_back(f.name);
        widths_.clear();
        for (const auto& n : names_) widths_.push_back(n.size());
        if (format_ == "csv") {
            std::string header;
            CsvEncoder(CsvOptions{}).write_header(schema, header);
            MILLRACE_TRY(write(header));
        }
        return {};
    }
    Status push(Batch batch) override {
        rows_ += batch.num_rows();
        std::string out;
        if (format_ == "csv") {
            CsvEncoder(CsvOptions{}).encode(batch, out);
        } else if (format_ == "json") {
            JsonEncoder().encode(batch, out);
        } else {
            // One length-prefixed cell after another, row by row.
            for (std::size_t r = 0; r < batch.num_rows(); ++r) {
                for (std::size_t c = 0; c < batch.num_columns(); ++c) {
                    std::string cell = batch.value_at(r, c).to_string();
                    widths_[c] = std::max(widths_[c], cell.size());
                    const auto size = static_cast<uint32_t>(cell.size());
                    out.append(reinterpret_cast<const char*>(&size), sizeof(size));
                    out += cell;
                }
            }
        }
        return write(out);
    }
    Status finish() override { return {}; }

    /// Prints the spooled result to stdout (call once the query succeeded).
    Status commit() {
        if (std::fflush(spool_) != 0 || std::fseek(spool_, 0, SEEK_SET) != 0)
            return Error(ErrorCode::kIo, "cannot read back the query's result");
        if (format_ != "table") {
            char buffer[1 << 16];
            std::size_t n = 0;
            while ((n = std::fread(buffer, 1, sizeof(buffer), spool_)) > 0)
                std::fwrite(buffer, 1, n, stdout);
            return {};
        }
        line(names_);
        std::vector<std::string> rule;
        for (std::size_t w : widths_) rule.push_back(std::string(w, '-'));
        line(rule);
        std::vector<std::string> row(names_.size());
        for (uint64_t r = 0; r < rows_; ++r) {
            for (std::string& cell : row) {
                uint32_t size = 0;
                cell.resize(0);
                if (std::fread(&size, sizeof(size), 1, spool_) != 1) return truncated();
                cell.resize(size);
                if (size > 0 && std::fread(cell.data(), 1, size, spool_) != size)
                    return truncated();
            }
            line(row);
        }
        std::printf("(%zu row%s)\n", static_cast<std::size_t>(rows_), rows_ == 1 ? "" : "s");
        return {};
    }

private:
    Status write(const std::string& text) {
        if (!text.empty() && std::fwrite(text.data(), 1, text.size(), spool_) != text.size())
            return Error(ErrorCode::kIo, "cannot write the query's result to a temporary file");
        return {};
    }
    static Status truncated() {
        return Error(ErrorCode::kIo, "the query's spooled result was cut short");
    }
    void line(const std::vector<std::string>& cells) const {
        std::string out;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            if (c > 0) out += "  ";
            out += cells[c];
            if (c + 1 < cells.size()) out.append(widths_[c] - cells[c].size(), ' ');
        }
        std::puts(out.c_str());
    }

    std::string format_;
    std::FILE* spool_;
    std::vector<std::string> names_;
    std::vector<std::size_t> widths_;
    uint64_t rows_ = 0;
};

}  // namespace

int run_query(const QueryOptions& options) {
    if (options.format != "table" && options.format != "csv" && options.format != "json") {
        std::fprintf(stderr, "error: --format must be table, csv or json\n");
        return 1;
    }
    std::string data_dir = options.data_dir;
    sql::FunctionResources resources;
    if (data_dir.empty()) {
        std::vector<Error> errors;
        auto project = load_project(options.project.empty() ? "." : options.project, &errors);
        if (!project.ok()) {
            std::fprintf(stderr, "%s\n(give --data-dir or --project)\n",
                         project.error().to_string().c_str());
            return 1;
        }
        data_dir = project->data_dir;
        resources = function_resources(*project);
    }
    std::size_t memory_limit = kDefaultQueryMemoryLimit;
    if (!options.memory_limit.empty()) {
        auto size = parse_byte_size(options.memory_limit);
        if (!size || *size == 0) {
            std::fprintf(stderr, "error: --memory-limit `%s`: expected a size such as 512M or 4G\n",
                         options.memory_limit.c_str());
            return 1;
        }
        memory_limit = static_cast<std::size_t>(*size);
    }
    Printer printer(options.format);
    Status status = query_lake(
        data_dir, options.sql, [&](const Schema& schema) { return printer.set_schema(schema); },
        printer, memory_limit, options.clock, nullptr, &resources);
    if (status.ok()) status = printer.commit();
    if (!status.ok()) {
        std::fprintf(stderr, "%s\n", status.error().to_string().c_str());
        return 1;
    }
    return 0;
}

}  // namespace millrace
