#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "formats/csv_decoder.h"
#include "types/batch.h"

namespace millrace {

/// Writes Batches as CSV text (RFC 4180) that CsvDecoder with the same options reads back into
/// equal Batches.
///
/// Records end with LF. A field is quoted only when it must be: it holds the delimiter, the
/// quote, CR or LF; it starts or ends with a space or tab (other tools trim those); it is empty
/// or equal to a null marker (so the empty string `""` stays distinct from null); it starts with
/// a UTF-8 byte order mark (which a decoder skips at the start of a file). Quotes inside
/// are doubled. Nulls are written as the first null marker (an empty field without markers).
/// Values: bools true/false; integers in decimal; doubles in the shortest text that reads back
/// to the same double (inf, -inf, nan included); timestamps as 2024-03-05T14:07:09[.123456]Z;
/// dates as 2024-03-05; bytes as standard base64.
///
/// A null marker that is also the text of a non-string value (say "0" for an int column) makes
/// that value read back as null; choose markers that no value can take.
///
/// The options must pass validate_csv_options(). `header` is not consulted: the caller decides
/// whether to call write_header(). Not thread-safe; one encoder per thread.
class CsvEncoder {
public:
    explicit CsvEncoder(CsvOptions options);

    /// Appends the header record: the schema's field names.
    void write_header(const Schema& schema, std::string& out);

    /// Appends one record per row of `batch`.
    void encode(const Batch& batch, std::string& out);

private:
    /// Appends a field, quoted when needed. `textual` is true for string values, whose text
    /// may be anything; other values are only checked for the delimiter and quote.
    void append_field(std::string& out, std::string_view text, bool textual);
    bool needs_quotes(std::string_view text, bool textual) const;

    CsvOptions options_;
    std::array<bool, 256> special_{};  // delimiter, quote, CR, LF
    std::string null_text_;
    std::size_t longest_marker_ = 0;
    bool check_plain_values_ = false;  // the delimiter or quote can occur in a number or date
    std::string scratch_;
};

}  // namespace millrace
