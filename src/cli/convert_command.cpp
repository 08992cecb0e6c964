#include "cli/convert_command.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "common/cpu_count.h"
#include "common/json_string.h"
#include "connectors/input_file.h"
#include "connectors/staged_output.h"
#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "formats/file_format.h"
#include "formats/json_decoder.h"
#include "formats/json_encoder.h"
#include "formats/json_schema_inference.h"
#include "formats/parquet/parquet_reader.h"
#include "formats/parquet/parquet_writer.h"

namespace millrace {

namespace {

constexpr std::size_t kInferenceSample = 1 << 20;
constexpr std::size_t kErrorsPrinted = 5;

// Encodes every batch straight to the output and every rejected record to the errors file, so
// memory stays bounded whatever the input size.
class ConvertSink final : public DecodeSink {
public:
    ConvertSink(FileFormat to, const CsvOptions& csv, bool header, std::FILE* out,
                std::FILE* errors, std::string source)
        : to_(to),
          csv_(csv),
          header_(header),
          out_(out),
          errors_(errors),
          source_(std::move(source)) {}

    /// Parquet output goes through a writer instead of `out`.
    void set_parquet(std::unique_ptr<ParquetWriter> writer) { parquet_ = std::move(writer); }
    Status close_parquet() { return parquet_ ? parquet_->close() : Status(); }

    Status on_batch(Batch batch) override {
        if (parquet_) {
            rows_ += batch.num_rows();
            return parquet_->write(batch);
        }
        buffer_.clear();
        if (to_ == FileFormat::kCsv) {
            if (header_ && !wrote_header_) csv_.write_header(batch.schema(), buffer_);
            csv_.encode(batch, buffer_);
        } else {
            json_.encode(batch, buffer_);
        }
        wrote_header_ = true;
        rows_ += batch.num_rows();
        return write(out_, buffer_);
    }

    void on_error(RowError error) override {
        ++rejected_;
        if (errors_ != nullptr) {
            std::string line = "{\"source\":";
            append_json_string(line, source_);
            line += ",\"record_index\":" + std::to_string(error.record_index) +
                    ",\"line\":" + std::to_string(error.line) +
                    ",\"byte_offset\":" + std::to_string(error.byte_offset) + ",\"reason\":";
            append_json_string(line, error.reason);
            line += ",\"raw\":";
            // Raw bytes may be invalid UTF-8 (that may be the very reason): escape what is not.
            append_json_string(line, error.raw);
            line += "}\n";
            if (!write(errors_, line).ok()) write_failed_ = true;
        } else if (rejected_ <= kErrorsPrinted) {
            std::fprintf(stderr, "%s:%llu: rejected: %s\n", source_.c_str(),
                         static_cast<unsigned long long>(error.line), error.reason.c_str());
        }
    }

    Status write_header_if_empty(const Schema& schema) {
        if (to_ != FileFormat::kCsv || !header_ || wrote_header_ || parquet_) return {};
        buffer_.clear();
        csv_.write_header(schema, buffer_);
        wrote_header_ = true;
        return write(out_, buffer_);
    }

    uint64_t rows() const { return rows_; }
    uint64_t rejected() const { return rejected_; }
    bool write_failed() const { return write_failed_; }

private:
    static Status write(std::FILE* file, const std::string& bytes) {
        if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
            return Error(ErrorCode::kIo, "write failed");
        }
        return {};
    }

    FileFormat to_;
    CsvEncoder csv_;
    JsonEncoder json_;
    bool header_;
    bool wrote_header_ = false;
    std::FILE* out_;
    std::FILE* errors_;
    std::string source_;
    std::string buffer_;
    std::unique_ptr<ParquetWriter> parquet_;
    uint64_t rows_ = 0;
    uint64_t rejected_ = 0;
    bool write_failed_ = false;
};

Result<FileFormat> pick_format(const std::string& flag, const std::string& path,
                               const char* which) {
    if (!flag.empty()) {
        auto format = parse_file_format(flag);
        if (!format) {
            return Error(ErrorCode::kInvalidArgument,
                         "unknown format `" + flag + "` (expected json, csv or parquet)");
        }
        return *format;
    }
    auto format = file_format_from_path(path);
    if (!format) {
        return Error(ErrorCode::kInvalidArgument,
                     std::string("cannot tell the ") + which + " format from `" + path +
                         "`: use --" + (which[0] == 'i' ? "from" : "to") + " json|csv|parquet");
    }
    return *format;
}

Result<EpochUnit> parse_epoch_unit(const std::string& text) {
    if (text == "auto") return EpochUnit::kAuto;
    if (text == "s" || text == "seconds") return EpochUnit::kSeconds;
    if (text == "ms" || text == "milliseconds") return EpochUnit::kMilliseconds;
    if (text == "us" || text == "microseconds") return EpochUnit::kMicroseconds;
    return Error(ErrorCode::kInvalidArgument,
                 "unknown epoch unit `" + text + "` (expected auto, s, ms or us)");
}

// kInvalidArgument when `output` names the same file as `input` (the same inode, when both
// exist: a symlink or hard link counts) or the same path once resolved (when it does not exist
// yet).
Status refuse_same_file(const std::string& input, const std::string& output, const char* what) {
    if (input == "-" || output == "-" || input.empty() || output.empty()) return {};
    std::error_code error;
    const bool same_inode = std::filesystem::exists(input, error) &&
                            std::filesystem::exists(output, error) &&
                            std::filesystem::equivalent(input, output, error);
    const bool same_path = std::filesystem::weakly_canonical(input, error) ==
                           std::filesystem::weakly_canonical(output, error);
    if (same_inode || same_path) {
        return Error(ErrorCode::kInvalidArgument,
                     std::string(what) + " " + output + " is the same file as " + input +
                         " (writing it would destroy the data being read); choose another path");
    }
    return {};
}

bool ends_with(const std::string& text, std::string_view suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status convert(const ConvertOptions& options) {
    MILLRACE_ASSIGN_OR_RETURN(FileFormat from, pick_format(options.from, options.input, "input"));
    MILLRACE_ASSIGN_OR_RETURN(FileFormat to, pick_format(options.to, options.output, "output"));
    MILLRACE_ASSIGN_OR_RETURN(EpochUnit epoch_unit, parse_epoch_unit(options.epoch_unit));

    auto csv_for = [&](const std::string& path) -> Result<CsvOptions> {
        CsvOptions csv;
        csv.header = !options.no_header;
        csv.decode.batch_rows = options.batch_rows;
        if (options.delimiter == "tab" || options.delimiter == "\\t") {
            csv.delimiter = '\t';
        } else if (options.delimiter.size() == 1) {
            csv.delimiter = options.delimiter[0];
        } else if (!options.delimiter.empty()) {
            return Error(ErrorCode::kInvalidArgument, "--delimiter must be one character or `tab`");
        } else if (ends_with(path, ".tsv")) {
            csv.delimiter = '\t';
        }
        if (options.null_marker) csv.null_markers = {*options.null_marker};
        return csv;
    };
    MILLRACE_ASSIGN_OR_RETURN(CsvOptions input_csv, csv_for(options.input));
    MILLRACE_ASSIGN_OR_RETURN(CsvOptions output_csv, csv_for(options.output));
    if (options.batch_rows == 0) {
        return Error(ErrorCode::kInvalidArgument, "--batch-rows must be at least 1");
    }

    std::unique_ptr<ParquetReader> parquet_input;
    if (from == FileFormat::kParquet) {
        if (options.input == "-") {
            return Error(ErrorCode::kInvalidArgument, "Parquet input must be a file, not stdin");
        }
        MILLRACE_ASSIGN_OR_RETURN(parquet_input, ParquetReader::open(options.input));
    }
    ParquetWriterOptions parquet_options;
    if (to == FileFormat::kParquet) {
        if (options.output == "-") {
            return Error(ErrorCode::kInvalidArgument, "Parquet output must be a file, not stdout");
        }
        if (options.compression == "zstd") {
            parquet_options.codec = ParquetCodec::kZstd;
        } else if (options.compression == "snappy") {
            parquet_options.codec = ParquetCodec::kSnappy;
        } else if (options.compression == "none" || options.compression == "uncompressed") {
            parquet_options.codec = ParquetCodec::kUncompressed;
        } else {
            return Error(ErrorCode::kInvalidArgument, "unknown --compression `" +
                                                          options.compression +
                                                          "` (expected zstd, snappy or none)");
        }
        if (options.row_group_rows == 0) {
            return Error(ErrorCode::kInvalidArgument, "--row-group-rows must be at least 1");
        }
        parquet_options.row_group_rows = options.row_group_rows;
        parquet_options.threads = usable_cores();
    }

    // Outputs are refused up front when they are the input (or each other): writing them would
    // destroy the data being read.
    MILLRACE_TRY(refuse_same_file(options.input, options.output, "output"));
    if (!options.errors.empty()) {
        MILLRACE_TRY(refuse_same_file(options.input, options.errors, "--errors file"));
        MILLRACE_TRY(refuse_same_file(options.output, options.errors, "--errors file"));
    }

    // A regular file is mapped; a pipe, FIFO or standard input ("-") is read to its end.
    std::optional<InputFile> input;
    if (!parquet_input) {
        MILLRACE_ASSIGN_OR_RETURN(InputFile opened, InputFile::open(options.input));
        input.emplace(std::move(opened));
    }
    const std::string_view bytes = input ? input->bytes() : std::string_view();

    std::shared_ptr<const Schema> schema;
    if (parquet_input) {
        if (!options.schema.empty()) {
            return Error(ErrorCode::kInvalidArgument,
                         "--schema does not apply to Parquet input (the file has its schema)");
        }
        schema = parquet_input->schema();
    } else if (!options.schema.empty()) {
        auto parsed = parse_schema_spec(options.schema);
        if (!parsed.ok()) {
            const Error& error = parsed.error();
            return Error(ErrorCode::kInvalidArgument, "--schema, column " +
                                                          std::to_string(error.location().column) +
                                                          ": " + error.message());
        }
        schema = std::make_shared<const Schema>(std::move(parsed).value());
    } else {
        std::string_view sample = bytes.substr(0, kInferenceSample);
        if (sample.size() < bytes.size()) {
            const std::size_t last_newline = sample.rfind('\n');
            if (last_newline != std::string_view::npos) sample = sample.substr(0, last_newline);
        }
        Result<Schema> inferred = from == FileFormat::kJson ? infer_json_schema(sample)
                                                            : infer_csv_schema(sample, input_csv);
        if (!inferred.ok()) {
            return std::move(inferred).error().with_context("inferring a schema from " +
                                                            options.input + " (or pass --schema)");
        }
        schema = std::make_shared<const Schema>(std::move(inferred).value());
        std::fprintf(stderr, "convert: inferred schema %s\n", schema->to_string().c_str());
    }

    // Outputs are staged next to their final path and renamed into place only when the run
    // succeeds: a failed run leaves no half-written file and the previous one untouched.
    const std::vector<std::string> inputs = {options.input};
    std::optional<StagedOutput> staged_output;
    std::FILE* out = stdout;
    if (options.output != "-") {
        MILLRACE_ASSIGN_OR_RETURN(StagedOutput staged,
                                  StagedOutput::create(options.output, inputs));
        staged_output.emplace(std::move(staged));
        if (to == FileFormat::kParquet) {
            out = nullptr;
        } else {
            MILLRACE_ASSIGN_OR_RETURN(out, staged_output->stream());
        }
    }
    std::optional<StagedOutput> staged_errors;
    std::FILE* errors = nullptr;
    if (!options.errors.empty()) {
        MILLRACE_ASSIGN_OR_RETURN(StagedOutput staged,
                                  StagedOutput::create(options.errors, inputs));
        staged_errors.emplace(std::move(staged));
        MILLRACE_ASSIGN_OR_RETURN(errors, staged_errors->stream());
    }

    ConvertSink sink(to, output_csv, !options.no_header, out, errors, options.input);
    if (to == FileFormat::kParquet) {
        MILLRACE_ASSIGN_OR_RETURN(
            auto writer, ParquetWriter::open(staged_output->temp_path(), schema, parquet_options));
        sink.set_parquet(std::move(writer));
    }
    const auto start = std::chrono::steady_clock::now();
    uint64_t input_bytes = bytes.size();
    if (parquet_input) {
        struct stat info {};
        if (::stat(options.input.c_str(), &info) == 0)
            input_bytes = static_cast<uint64_t>(info.st_size);
        MILLRACE_TRY(
            parquet_input->scan({}, [&](Batch batch) { return sink.on_batch(std::move(batch)); }));
    } else if (from == FileFormat::kJson) {
        JsonOptions json;
        json.decode.batch_rows = options.batch_rows;
        json.epoch_unit = epoch_unit;
        JsonDecoder decoder(schema, json);
        MILLRACE_TRY(decoder.decode(bytes, sink));
    } else {
        CsvDecoder decoder(schema, input_csv);
        MILLRACE_TRY(decoder.decode(bytes, sink));
    }
    MILLRACE_TRY(sink.write_header_if_empty(*schema));
    MILLRACE_TRY(sink.close_parquet());
    if ((out != nullptr && std::fflush(out) != 0) || sink.write_failed()) {
        return Error(ErrorCode::kIo, "writing " + options.output + " failed");
    }
    // The rejected records explain a failed run too: their file is kept either way.
    if (staged_errors) MILLRACE_TRY(staged_errors->commit());
    const bool too_many_errors = options.max_errors && sink.rejected() > *options.max_errors;
    if (staged_output && !too_many_errors) MILLRACE_TRY(staged_output->commit());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t records = sink.rows() + sink.rejected();
    std::fprintf(
        stderr,
        "convert: %s (%s, %.1f MB) -> %s (%s): %llu records read, %llu rows written, "
        "%llu rejected%s in %.3f s (%.0f MB/s)\n",
        options.input.c_str(), std::string(file_format_name(from)).c_str(),
        static_cast<double>(input_bytes) / 1e6, options.output.c_str(),
        std::string(file_format_name(to)).c_str(), static_cast<unsigned long long>(records),
        static_cast<unsigned long long>(sink.rows()),
        static_cast<unsigned long long>(sink.rejected()),
        sink.rejected() > 0 && errors != nullptr ? (" (reasons in " + options.errors + ")").c_str()
                                                 : "",
        seconds, static_cast<double>(input_bytes) / 1e6 / (seconds > 0 ? seconds : 1e-9));
    if (too_many_errors) {
        return Error(
            ErrorCode::kResourceExhausted,
            std::to_string(sink.rejected()) + " records rejected, more than --max-errors " +
                std::to_string(*options.max_errors) + "; " + options.output + " was not written");
    }
    return {};
}

}  // namespace

int run_convert(const ConvertOptions& options) {
    Status status = convert(options);
    if (!status.ok()) {
        std::fprintf(stderr, "millrace convert: %s\n", status.error().to_string().c_str());
        return 1;
    }
    return 0;
}

}  // namespace millrace
