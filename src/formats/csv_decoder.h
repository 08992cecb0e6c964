#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "formats/decode_sink.h"
#include "types/schema.h"

namespace millrace {

/// CSV dialect and decoding options, shared by CsvDecoder, CsvEncoder and infer_csv_schema.
struct CsvOptions {
    char delimiter = ',';
    char quote = '"';
    /// The first record names the columns; they are matched to schema fields by name.
    bool header = true;
    /// Unquoted field texts that mean null (compared exactly). See CsvDecoder for quoted fields.
    /// The encoder writes nulls as the first marker (an empty field when there is none).
    std::vector<std::string> null_markers = {""};
    /// Physical lines skipped at the very start (after a BOM), before the header: titles,
    /// comments. Quotes are not interpreted in them; LF, CRLF and a lone CR each end a line.
    std::size_t skip_rows = 0;
    DecodeOptions decode;
};

/// Checks that options describe a usable dialect: delimiter and quote are distinct and neither is
/// CR or LF, and decode.batch_rows > 0. kInvalidArgument otherwise.
Status validate_csv_options(const CsvOptions& options);

/// Decodes CSV text (RFC 4180) into Batches of a given schema.
///
/// Grammar: records end with LF, CRLF or a lone CR (the last one may lack it); fields are
/// separated by the delimiter; a field that starts with the quote character is quoted and runs
/// to the next quote not doubled (`""` inside it is one quote), so it may hold delimiters and
/// line breaks, which are kept as they are. A UTF-8 byte order mark at the start is skipped.
/// Blank lines are skipped, except when records have exactly one field and the empty text is a
/// null marker: there a blank line is a null (so a null in a one-column file survives a round
/// trip).
///
/// Columns: with `header`, the first record names the columns and they are matched to schema
/// fields by exact name, in any order; CSV columns the schema lacks are ignored; a schema field
/// the header lacks is null in every row, and when that field is `not null`, decode() fails
/// with kNotFound before producing anything. An empty header cell is named `column_<n>` (1-based
/// position), as columns are in inference without a header. A header naming a schema field twice
/// is a kParse error, as is a malformed header record. Without `header`, fields are positional.
///
/// Values: an unquoted field equal to a null marker is null. For string and bytes columns a
/// quoted field is never null (`""` is the empty string, as in PostgreSQL COPY CSV); for the
/// other types a quoted null marker is null too, because quote-everything writers emit `""` for
/// a missing number. Number, bool, date and timestamp texts may have surrounding spaces/tabs.
///   bool       true/false/t/f/yes/no/1/0, any case
///   int32/64   optional sign and decimal digits; overflow is an error
///   double     decimal or exponent notation, inf, infinity, nan (any case, optional sign)
///   string     the text as is; must be valid UTF-8
///   bytes      standard base64 (formats/base64.h)
///   timestamp  ISO 8601 / SQL text (types/time_codec.h), or integer seconds since the epoch
///   date       YYYY-MM-DD
///
/// Bad records never stop decoding: each goes to DecodeSink::on_error with its 0-based index
/// among data records (blank lines and the header are not records), byte offset, 1-based line,
/// reason and original bytes (without the line ending), and decoding continues with the next
/// record. Reasons: wrong number of fields, a value not convertible to its column type, null in a
/// not-null column, invalid UTF-8 in a string column, a quote inside an unquoted field, text
/// after a closing quote, and an unterminated quoted field (which makes the rest of the input one
/// bad record).
///
/// Good records become Batches of decode.batch_rows rows (the last one smaller; no empty
/// batches), in input order. A batch is also cut early when its string payload would pass
/// 4 GiB, the limit of Column offsets.
///
/// Not thread-safe: one decode() at a time per decoder. decode() keeps no reference to input.
class CsvDecoder {
public:
    CsvDecoder(std::shared_ptr<const Schema> schema, CsvOptions options);

    const Schema& schema() const { return *schema_; }

    /// Decodes a complete input (a whole file's bytes). Returns an Error for unusable options
    /// (kInvalidArgument), a bad header (kParse, kNotFound; see above), or the first non-ok
    /// Status of the sink's on_batch, which stops decoding. Row problems are not errors.
    Status decode(std::string_view input, DecodeSink& sink);

private:
    std::shared_ptr<const Schema> schema_;
    CsvOptions options_;
};

/// Infers a schema from a sample of CSV text: column names from the header (or column_1..n
/// without one), and for each column the first of bool, int64, double, date, timestamp that
/// every non-null value of the column parses as, else string. int32 is never inferred; bool is
/// inferred from words (true/false/t/f/yes/no), not from 0/1; all fields are nullable; a column
/// of only nulls is a string. Records whose field count differs from the header's are skipped,
/// as is a final record cut inside a quoted field (so a prefix of a file is a fine sample).
/// Errors: kInvalidArgument for bad options; kParse for a sample without any record, a
/// malformed header, or duplicate header names.
Result<Schema> infer_csv_schema(std::string_view sample, const CsvOptions& options);

}  // namespace millrace
