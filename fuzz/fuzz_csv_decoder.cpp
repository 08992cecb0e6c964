// Decodes arbitrary bytes as CSV (fixed all-types schema, then a schema inferred from the same
// bytes), checks the invariants of what comes out, and round-trips the decoded batches through
// CsvEncoder. The first byte also selects the dialect, so mutations explore those too.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/utf8.h"
#include "formats/csv_decoder.h"
#include "formats/csv_encoder.h"
#include "types/value.h"

namespace millrace {
namespace {

#define FUZZ_ASSERT(condition)                                                                     \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

std::shared_ptr<const Schema> fixed_schema(bool with_not_null) {
    return std::make_shared<const Schema>(std::vector<Field>{
        {"b", DataType::kBool, true},
        {"i", DataType::kInt32, true},
        {"l", DataType::kInt64, !with_not_null},
        {"d", DataType::kFloat64, true},
        {"s", DataType::kString, true},
        {"y", DataType::kBytes, true},
        {"t", DataType::kTimestamp, true},
        {"day", DataType::kDate, true},
    });
}

CsvOptions options_from(uint8_t selector) {
    static constexpr char kDelimiters[] = {',', ';', '\t', '|'};
    static constexpr std::size_t kBatchRows[] = {1, 3, 8192};
    CsvOptions options;
    options.delimiter = kDelimiters[selector & 3];
    options.quote = (selector & 4) != 0 ? '\'' : '"';
    options.header = (selector & 8) == 0;
    options.decode.batch_rows = kBatchRows[(selector >> 4) % 3];
    switch ((selector >> 6) & 3) {
        case 0:
            break;  // {""}
        case 1:
            options.null_markers = {"NULL", ""};
            break;
        case 2:
            options.null_markers = {"\\N"};
            break;
        default:
            options.null_markers = {};
            break;
    }
    options.skip_rows = selector % 5 == 0 ? 1 : 0;
    options.decode.max_raw_bytes = 64;
    return options;
}

void check_batch(const Batch& batch, std::size_t batch_rows) {
    FUZZ_ASSERT(batch.num_rows() > 0);
    FUZZ_ASSERT(batch.num_rows() <= batch_rows);
    for (std::size_t c = 0; c < batch.num_columns(); ++c) {
        const Column& column = batch.column(c);
        FUZZ_ASSERT(column.size() == batch.num_rows());
        FUZZ_ASSERT(column.type() == batch.schema().field(c).type);
        std::size_t nulls = 0;
        for (std::size_t r = 0; r < column.size(); ++r) nulls += column.is_null(r) ? 1 : 0;
        FUZZ_ASSERT(nulls == column.null_count());
        if (!batch.schema().field(c).nullable) FUZZ_ASSERT(nulls == 0);
        if (is_variable_width(column.type())) {
            const auto offsets = column.offsets();
            FUZZ_ASSERT(offsets[0] == 0);
            for (std::size_t r = 0; r < column.size(); ++r)
                FUZZ_ASSERT(offsets[r] <= offsets[r + 1]);
            FUZZ_ASSERT(offsets[column.size()] == column.heap().size());
            if (column.type() == DataType::kString) FUZZ_ASSERT(is_valid_utf8(column.heap()));
        }
    }
}

struct Decoded {
    Status status;
    CollectingSink sink;
};

Decoded decode(std::shared_ptr<const Schema> schema, const CsvOptions& options,
               std::string_view input) {
    CsvDecoder decoder(std::move(schema), options);
    Decoded result;
    result.status = decoder.decode(input, result.sink);
    return result;
}

void check_output(const Decoded& decoded, const CsvOptions& options, std::string_view input) {
    for (const Batch& batch : decoded.sink.batches) check_batch(batch, options.decode.batch_rows);
    uint64_t previous_index = 0;
    uint64_t previous_offset = 0;
    for (std::size_t i = 0; i < decoded.sink.errors.size(); ++i) {
        const RowError& error = decoded.sink.errors[i];
        FUZZ_ASSERT(!error.reason.empty());
        FUZZ_ASSERT(is_valid_utf8(error.reason));
        FUZZ_ASSERT(error.line >= 1);
        FUZZ_ASSERT(error.byte_offset < input.size());
        FUZZ_ASSERT(error.raw.size() <= options.decode.max_raw_bytes);
        FUZZ_ASSERT(input.substr(error.byte_offset, error.raw.size()) == error.raw);
        if (i > 0) {
            FUZZ_ASSERT(error.record_index > previous_index);
            FUZZ_ASSERT(error.byte_offset > previous_offset);
        }
        previous_index = error.record_index;
        previous_offset = error.byte_offset;
    }
    if (!decoded.sink.errors.empty()) {
        // Every record is either a row or an error.
        FUZZ_ASSERT(decoded.sink.rows + decoded.sink.errors.size() >= previous_index + 1);
    }
}

bool same_value(const Value& a, const Value& b) {
    if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
    if (a.type() == DataType::kFloat64 && b.type() == DataType::kFloat64 &&
        std::isnan(a.as_double())) {
        return std::isnan(b.as_double());
    }
    return a == b;
}

// Encodes the decoded rows and decodes the text again: the same rows must come back.
void check_round_trip(const Decoded& decoded, const CsvOptions& options) {
    if (options.null_markers.empty() || decoded.sink.rows == 0) return;  // nulls can't round trip
    const Schema& schema = decoded.sink.batches[0].schema();
    CsvEncoder encoder(options);
    std::string text;
    if (options.header) encoder.write_header(schema, text);
    for (const Batch& batch : decoded.sink.batches) encoder.encode(batch, text);
    CsvOptions again = options;
    again.skip_rows = 0;
    Decoded round = decode(decoded.sink.batches[0].schema_ptr(), again, text);
    FUZZ_ASSERT(round.status.ok());
    FUZZ_ASSERT(round.sink.errors.empty());
    FUZZ_ASSERT(round.sink.rows == decoded.sink.rows);
    std::size_t batch_a = 0, row_a = 0, batch_b = 0, row_b = 0;
    for (std::size_t n = 0; n < decoded.sink.rows; ++n) {
        const Batch& a = decoded.sink.batches[batch_a];
        const Batch& b = round.sink.batches[batch_b];
        for (std::size_t c = 0; c < schema.size(); ++c) {
            const Value before = a.value_at(row_a, c);
            const Value after = b.value_at(row_b, c);
            if (!same_value(before, after)) {
                std::fprintf(stderr, "row %zu column %zu: %s became %s\n%s\n", n, c,
                             before.to_string().c_str(), after.to_string().c_str(), text.c_str());
            }
            FUZZ_ASSERT(same_value(before, after));
        }
        if (++row_a == a.num_rows()) ++batch_a, row_a = 0;
        if (++row_b == b.num_rows()) ++batch_b, row_b = 0;
    }
}

}  // namespace
}  // namespace millrace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace millrace;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const CsvOptions options = options_from(size > 0 ? data[0] : 0);

    // A fixed schema with every type (once with a not-null column, which may fail setup).
    for (bool with_not_null : {false, true}) {
        Decoded decoded = decode(fixed_schema(with_not_null), options, input);
        // Only the header can fail a decode: malformed (kParse) or lacking the not-null column.
        if (!decoded.status.ok()) {
            const ErrorCode code = decoded.status.error().code();
            FUZZ_ASSERT(options.header);
            FUZZ_ASSERT(code == ErrorCode::kParse ||
                        (with_not_null && code == ErrorCode::kNotFound));
        }
        check_output(decoded, options, input);
        if (decoded.status.ok()) check_round_trip(decoded, options);
        if (!with_not_null) {
            // Batch size never changes which records are rows and which are errors.
            CsvOptions one_batch = options;
            one_batch.decode.batch_rows = 8192;
            Decoded whole = decode(fixed_schema(false), one_batch, input);
            FUZZ_ASSERT(whole.sink.rows == decoded.sink.rows);
            FUZZ_ASSERT(whole.sink.errors.size() == decoded.sink.errors.size());
        }
    }

    // A schema inferred from the same bytes decodes them with structural errors only: every
    // value of a well-formed record parses as the inferred type.
    Result<Schema> inferred = infer_csv_schema(input, options);
    if (inferred.ok()) {
        auto schema = std::make_shared<const Schema>(std::move(inferred).value());
        for (const Field& field : schema->fields()) FUZZ_ASSERT(field.nullable);
        Decoded decoded = decode(schema, options, input);
        FUZZ_ASSERT(decoded.status.ok());
        check_output(decoded, options, input);
        for (const RowError& error : decoded.sink.errors) {
            const std::string& reason = error.reason;
            const bool structural = reason.find("fields, got") != std::string::npos ||
                                    reason.find("quote") != std::string::npos ||
                                    reason.find("invalid UTF-8") != std::string::npos;
            if (!structural) std::fprintf(stderr, "unexpected: %s\n", reason.c_str());
            FUZZ_ASSERT(structural);
        }
        check_round_trip(decoded, options);
    }
    return 0;
}
