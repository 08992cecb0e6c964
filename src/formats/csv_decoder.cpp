#include "formats/csv_decoder.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

#include "common/utf8.h"
#include "formats/base64.h"
#include "types/batch.h"
#include "types/time_codec.h"

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace millrace {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// The string payload of one column of a batch must stay addressable by uint32 offsets.
constexpr std::size_t kMaxBatchTextBytes = std::numeric_limits<uint32_t>::max();

// Timestamps given as integer seconds must lie in years 0001..9999, the range of the text form.
constexpr int64_t kMinEpochSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxEpochSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// ------------------------------------------------------------------------------------------
// UTF-8

// Offset of the first byte that does not start well-formed UTF-8, or npos. Most CSV text is
// ASCII, so it is skipped eight bytes at a time; common/utf8.h judges each other sequence.
std::size_t first_invalid_utf8(std::string_view text) {
    const auto* data = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t size = text.size();
    std::size_t i = 0;
    for (;;) {
        while (i + 8 <= size) {
            uint64_t word;
            std::memcpy(&word, data + i, 8);
            if ((word & 0x8080808080808080ull) != 0) break;
            i += 8;
        }
        while (i < size && data[i] < 0x80) ++i;
        if (i >= size) return std::string_view::npos;
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) return i;
        i += length;
    }
}

bool is_ascii(const char* data, std::size_t size) {
    uint64_t bits = 0;
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        std::memcpy(&word, data + i, 8);
        bits |= word;
    }
    for (; i < size; ++i) bits |= static_cast<unsigned char>(data[i]);
    return (bits & 0x8080808080808080ull) == 0;
}

// ------------------------------------------------------------------------------------------
// Messages

// Appends at most `max_bytes` of `text` (cut at a character boundary, "..." when cut) for an
// error message, with control characters, backslashes, `quote`, and every byte of invalid UTF-8
// escaped, so the message itself is always valid UTF-8 and fits on one line.
void append_escaped(std::string& out, std::string_view text, char quote, std::size_t max_bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    const bool valid = first_invalid_utf8(text) == std::string_view::npos;
    std::size_t length = std::min(text.size(), max_bytes);
    if (valid) {
        while (length < text.size() && length > 0 &&
               (static_cast<unsigned char>(text[length]) & 0xc0) == 0x80) {
            --length;
        }
    }
    for (std::size_t i = 0; i < length; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !valid)) {
            out += "\\x";
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        } else if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    if (length < text.size()) out += "...";
}

// A field's text in double quotes: `"abc"`.
void append_excerpt(std::string& out, std::string_view text) {
    out.push_back('"');
    append_escaped(out, text, '"', 64);
    out.push_back('"');
}

// A column name in backticks: `amount`.
std::string quoted_name(std::string_view name) {
    std::string out = "`";
    append_escaped(out, name, '`', 128);
    out.push_back('`');
    return out;
}

// ------------------------------------------------------------------------------------------
// Value parsing

bool is_blank(char c) { return c == ' ' || c == '\t'; }

[[gnu::noinline]] std::string_view trim_blanks_slow(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

// Values rarely have blanks around them: the check is inline, the trimming is not.
inline std::string_view trim_blanks(std::string_view text) {
    if (text.empty() || (!is_blank(text.front()) && !is_blank(text.back()))) return text;
    return trim_blanks_slow(text);
}

enum class ParseStatus : uint8_t { kOk, kInvalid, kOutOfRange };

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool equals_lower(std::string_view text, std::string_view lower) {
    if (text.size() != lower.size()) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (ascii_lower(text[i]) != lower[i]) return false;
    }
    return true;
}

// true/false/t/f/yes/no in any case; 1/0 too unless `words_only`.
bool parse_bool(std::string_view text, bool words_only, bool* out) {
    switch (text.size()) {
        case 1: {
            const char c = ascii_lower(text[0]);
            if (c == 't' || (c == '1' && !words_only)) return *out = true, true;
            if (c == 'f' || (c == '0' && !words_only)) return *out = false, true;
            return false;
        }
        case 2:
            if (equals_lower(text, "no")) return *out = false, true;
            return false;
        case 3:
            if (equals_lower(text, "yes")) return *out = true, true;
            return false;
        case 4:
            if (equals_lower(text, "true")) return *out = true, true;
            return false;
        case 5:
            if (equals_lower(text, "false")) return *out = false, true;
            return false;
        default:
            return false;
    }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

template <typename T>
ParseStatus parse_integer(std::string_view text, T* out) {
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin < end && *begin == '+') {
        ++begin;
        if (begin == end || !is_digit(*begin)) return ParseStatus::kInvalid;
    }
    const auto [ptr, ec] = std::from_chars(begin, end, *out);
    if (ptr != end) return ParseStatus::kInvalid;
    if (ec == std::errc::result_out_of_range) return ParseStatus::kOutOfRange;
    return ec == std::errc() ? ParseStatus::kOk : ParseStatus::kInvalid;
}

// Clinger's fast path for the common plain decimals ("-12.50"): with at most 15 significant
// digits the digits are exact in a double, and so is 10^k for k <= 22, so one correctly
// rounded division gives the correctly rounded result. False for anything else.
bool parse_plain_decimal(std::string_view text, double* out) {
    static constexpr double kPowersOf10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char* p = text.data();
    const char* end = p + text.size();
    bool negative = false;
    if (p < end && (*p == '-' || *p == '+')) negative = *p++ == '-';
    uint64_t mantissa = 0;
    int digits = 0;
    while (p < end && is_digit(*p)) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
        ++digits;
    }
    int fraction_digits = 0;
    if (p < end && *p == '.') {
        ++p;
        while (p < end && is_digit(*p)) {
            mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
            ++fraction_digits;
        }
    }
    digits += fraction_digits;
    if (p != end || digits == 0 || digits > 15) return false;
    double value = static_cast<double>(mantissa);
    if (fraction_digits > 0) value /= kPowersOf10[fraction_digits];
    *out = negative ? -value : value;
    return true;
}

ParseStatus parse_double(std::string_view text, double* out) {
    if (parse_plain_decimal(text, out)) return ParseStatus::kOk;
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin < end && *begin == '+') {
        ++begin;
        if (begin == end || *begin == '-' || *begin == '+') return ParseStatus::kInvalid;
    }
    const auto [ptr, ec] = std::from_chars(begin, end, *out, std::chars_format::general);
    if (ptr != end) return ParseStatus::kInvalid;
    if (ec == std::errc::result_out_of_range) return ParseStatus::kOutOfRange;
    return ec == std::errc() ? ParseStatus::kOk : ParseStatus::kInvalid;
}

// Timestamp text (time_codec.h) within years 0001..9999: an offset can push a local time just
// outside them, and such an instant would not survive being written as text again.
ParseStatus parse_timestamp_text(std::string_view text, int64_t* out,
                                 CachedTimestampParser* cache = nullptr) {
    const std::optional<int64_t> micros = cache ? cache->parse(text) : parse_timestamp(text);
    if (!micros) return ParseStatus::kInvalid;
    if (*micros < kMinEpochSeconds * 1'000'000 ||
        *micros > kMaxEpochSeconds * 1'000'000 + 999'999) {
        return ParseStatus::kOutOfRange;
    }
    *out = *micros;
    return ParseStatus::kOk;
}

// Timestamp text, or integer seconds since the epoch.
ParseStatus parse_timestamp_value(std::string_view text, int64_t* out,
                                  CachedTimestampParser* cache) {
    const ParseStatus text_status = parse_timestamp_text(text, out, cache);
    if (text_status != ParseStatus::kInvalid) return text_status;
    int64_t seconds = 0;
    const ParseStatus status = parse_integer(text, &seconds);
    if (status != ParseStatus::kOk) return status;
    if (seconds < kMinEpochSeconds || seconds > kMaxEpochSeconds) return ParseStatus::kOutOfRange;
    *out = seconds * 1'000'000;
    return ParseStatus::kOk;
}

// ------------------------------------------------------------------------------------------
// Records

// One field of a record, borrowed from the input. A quoted field's bytes are those between the
// quotes; `escaped` says they still hold doubled quotes.
struct FieldText {
    const char* data;
    std::size_t size;
    bool quoted;
    bool escaped;
};

enum class RecordProblem : uint8_t {
    kNone,
    kStrayQuote,         // a quote inside an unquoted field
    kTextAfterQuote,     // something other than a delimiter or line end after a closing quote
    kUnterminatedQuote,  // a quoted field that never closes; the record runs to the end
};

/// Splits the input into records and fields (RFC 4180), without copying or converting. After a
/// malformed field it resynchronizes at the next delimiter or line end outside quotes, so one
/// record's problem does not spill into the next.
class RecordReader {
public:
    RecordReader(std::string_view input, char delimiter, char quote)
        : pos_(input.data()),
          end_(input.data() + input.size()),
          delimiter_(delimiter),
          quote_(quote),
          window_(end_) {
        special_.fill(false);
        special_[static_cast<unsigned char>(delimiter)] = true;
        special_[static_cast<unsigned char>(quote)] = true;
        special_['\n'] = true;
        special_['\r'] = true;
        fields_.reserve(64);
    }

    const char* position() const { return pos_; }

    /// Skips `count` physical lines, quotes not interpreted.
    void skip_lines(std::size_t count) {
        for (std::size_t i = 0; i < count && pos_ < end_; ++i) {
            while (pos_ < end_ && *pos_ != '\n' && *pos_ != '\r') ++pos_;
            skip_line_end();
        }
    }

    /// Skips blank lines; false at the end of the input.
    bool skip_blank_lines() {
        while (pos_ < end_ && (*pos_ == '\n' || *pos_ == '\r')) skip_line_end();
        return pos_ < end_;
    }

    bool at_end() const { return pos_ >= end_; }

    /// Reads the record at the current position (which must not be the end) and moves past its
    /// line end. At a line end it reads a record of one empty field.
    void read() {
        record_begin_ = pos_;
        fields_.clear();
        problem_ = RecordProblem::kNone;
        problem_field_ = 0;
        const char* p = pos_;
        for (;;) {
            if (p < end_ && *p == quote_) {
                const char* content = p + 1;
                const char* q = content;
                bool escaped = false;
                for (;;) {
                    q = static_cast<const char*>(std::memchr(q, quote_, end_ - q));
                    if (q == nullptr) {
                        fields_.push_back(
                            {content, static_cast<std::size_t>(end_ - content), true, escaped});
                        problem_ = RecordProblem::kUnterminatedQuote;
                        problem_field_ = fields_.size() - 1;
                        record_end_ = end_;
                        pos_ = end_;
                        return;
                    }
                    if (q + 1 < end_ && q[1] == quote_) {
                        escaped = true;
                        q += 2;
                        continue;
                    }
                    break;
                }
                p = q + 1;
                if (p < end_ && *p != delimiter_ && *p != '\n' && *p != '\r') [[unlikely]] {
                    note(RecordProblem::kTextAfterQuote);
                    p = skip_unquoted(p);
                }
                fields_.push_back({content, static_cast<std::size_t>(q - content), true, escaped});
            } else {
                const char* q = find_special(p);
                if (q < end_ && *q == quote_) [[unlikely]] {
                    note(RecordProblem::kStrayQuote);
                    q = skip_unquoted(q);
                }
                fields_.push_back({p, static_cast<std::size_t>(q - p), false, false});
                p = q;
            }
            if (p >= end_) {
                record_end_ = end_;
                pos_ = end_;
                return;
            }
            if (*p == delimiter_) {
                ++p;
                continue;
            }
            record_end_ = p;
            pos_ = p;
            skip_line_end();
            return;
        }
    }

    const char* record_begin() const { return record_begin_; }
    const char* record_end() const { return record_end_; }  // before the line end
    const std::vector<FieldText>& fields() const { return fields_; }
    RecordProblem problem() const { return problem_; }
    std::size_t problem_field() const { return problem_field_; }

private:
    // Moves past one line end (LF, CRLF or a lone CR) at the current position, if any.
    void skip_line_end() {
        if (pos_ < end_ && *pos_ == '\r') {
            ++pos_;
            if (pos_ < end_ && *pos_ == '\n') ++pos_;
        } else if (pos_ < end_ && *pos_ == '\n') {
            ++pos_;
        }
    }

    void note(RecordProblem problem) {
        if (problem_ == RecordProblem::kNone) {
            problem_ = problem;
            problem_field_ = fields_.size();
        }
    }

    // Position of the next delimiter or line end from p, quotes taken literally.
    const char* skip_unquoted(const char* p) {
        for (;;) {
            p = find_special(p);
            if (p >= end_ || *p != quote_) return p;
            ++p;
        }
    }

    // Position of the first delimiter, quote, CR or LF at or after p; end_ when there is none.
    // Works on a 64-byte window of the input whose bitmask of those bytes is cached: the fields
    // of a record mostly share a window or two, so most calls are a shift and a bit scan.
    const char* find_special(const char* p) {
        // Unsigned: a p before the window gives a huge offset.
        const auto offset = static_cast<std::size_t>(p - window_);
        if (offset < 64) [[likely]] {
            const uint64_t rest = window_mask_ >> offset;
            if (rest != 0) [[likely]]
                return p + __builtin_ctzll(rest);
        }
        return find_special_in_new_window(p);
    }

    [[gnu::noinline]] const char* find_special_in_new_window(const char* p) {
        for (;;) {
            const auto offset = static_cast<std::size_t>(p - window_);
            if (offset < 64) {
                const uint64_t rest = window_mask_ >> offset;
                if (rest != 0) return p + __builtin_ctzll(rest);
                if (end_ - window_ <= 64) return end_;
                p = window_ + 64;  // nothing special from p up to there
                load_window(p);
            } else {
                if (p >= end_) return end_;
                load_window(p);
            }
        }
    }

    // Makes [q, q + 64) the window; bits for bytes past the end of the input stay clear.
    void load_window(const char* q) {
        window_ = q;
        const auto available = static_cast<std::size_t>(end_ - q);
        // The input is read once, front to back, mostly from memory (a mapped file): ask for
        // the bytes a few windows on, across page boundaries the hardware prefetcher stops at.
        __builtin_prefetch(q + kReadAhead);
        if (available >= 64) {
            window_mask_ = special_mask(q);
        } else {
            char padded[64];
            std::memcpy(padded, q, available);
            std::memset(padded + available, 0, 64 - available);
            window_mask_ = special_mask(padded) & ((uint64_t{1} << available) - 1);
        }
    }

    // Bit i set when p[i] is a delimiter, quote, CR or LF (i < 64).
    uint64_t special_mask(const char* p) const {
#if defined(__AVX2__)
        const __m256i delimiter = _mm256_set1_epi8(delimiter_);
        const __m256i quote = _mm256_set1_epi8(quote_);
        const __m256i lf = _mm256_set1_epi8('\n');
        const __m256i cr = _mm256_set1_epi8('\r');
        auto half = [&](const char* at) {
            const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
            const __m256i hits = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpeq_epi8(chunk, delimiter),
                                _mm256_cmpeq_epi8(chunk, quote)),
                _mm256_or_si256(_mm256_cmpeq_epi8(chunk, lf), _mm256_cmpeq_epi8(chunk, cr)));
            return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hits)));
        };
        return half(p) | (half(p + 32) << 32);
#elif defined(__SSE2__)
        const __m128i delimiter = _mm_set1_epi8(delimiter_);
        const __m128i quote = _mm_set1_epi8(quote_);
        const __m128i lf = _mm_set1_epi8('\n');
        const __m128i cr = _mm_set1_epi8('\r');
        uint64_t mask = 0;
        for (int i = 0; i < 4; ++i) {
            const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
            const __m128i hits = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, delimiter), _mm_cmpeq_epi8(chunk, quote)),
                _mm_or_si128(_mm_cmpeq_epi8(chunk, lf), _mm_cmpeq_epi8(chunk, cr)));
            mask |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(hits)))
                    << (16 * i);
        }
        return mask;
#else
        uint64_t mask = 0;
        for (int i = 0; i < 64; ++i) {
            mask |= static_cast<uint64_t>(special_[static_cast<unsigned char>(p[i])]) << i;
        }
        return mask;
#endif
    }

    static constexpr std::size_t kReadAhead = 1024;
    const char* pos_;
    const char* end_;
    char delimiter_;
    char quote_;
    std::array<bool, 256> special_;
    const char* window_;  // find_special's cache: the window's start and its bitmask
    uint64_t window_mask_ = 0;
    std::vector<FieldText> fields_;
    const char* record_begin_ = nullptr;
    const char* record_end_ = nullptr;
    RecordProblem problem_ = RecordProblem::kNone;
    std::size_t problem_field_ = 0;
};

// The text of a field with doubled quotes made single; `scratch` holds it when needed.
std::string_view field_value(const FieldText& field, char quote, std::string& scratch) {
    if (!field.escaped) return {field.data, field.size};
    scratch.clear();
    const char* p = field.data;
    const char* end = p + field.size;
    while (p < end) {
        const char* q = static_cast<const char*>(std::memchr(p, quote, end - p));
        if (q == nullptr) {
            scratch.append(p, end);
            break;
        }
        scratch.append(p, q + 1);  // keep one quote of the pair
        p = q + 2;
    }
    return scratch;
}

std::string_view without_bom(std::string_view input) {
    return input.starts_with(kBom) ? input.substr(kBom.size()) : input;
}

SourceLocation line_location(uint64_t line) {
    return SourceLocation{"", static_cast<int>(std::min<uint64_t>(line, INT32_MAX)), 0};
}

std::string positional_name(std::size_t index) { return "column_" + std::to_string(index + 1); }

// Reads the header record into names; kParse for a malformed one.
Status read_header(RecordReader& reader, const CsvOptions& options, std::vector<std::string>* names,
                   uint64_t line) {
    reader.read();
    if (reader.problem() != RecordProblem::kNone) {
        std::string message =
            "malformed CSV header, field " + std::to_string(reader.problem_field() + 1) + ": ";
        switch (reader.problem()) {
            case RecordProblem::kStrayQuote:
                message += "quote inside an unquoted field";
                break;
            case RecordProblem::kTextAfterQuote:
                message += "text after a closing quote";
                break;
            default:
                message += "unterminated quoted field";
                break;
        }
        return Error(ErrorCode::kParse, std::move(message), line_location(line));
    }
    std::string scratch;
    names->clear();
    for (const FieldText& field : reader.fields()) {
        std::string name(field_value(field, options.quote, scratch));
        if (name.empty()) name = positional_name(names->size());
        names->push_back(std::move(name));
    }
    return {};
}

// The LFs in [p, end): 32 bytes per compare and popcount where AVX2 is there (std::count
// widens every byte to a 64-bit lane).
uint64_t count_line_feeds(const char* p, const char* end) {
    uint64_t count = 0;
#if defined(__AVX2__)
    const __m256i lf = _mm256_set1_epi8('\n');
    for (; end - p >= 32; p += 32) {
        const __m256i chunk = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        count += static_cast<uint64_t>(__builtin_popcount(
            static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(chunk, lf)))));
    }
#endif
    return count + static_cast<uint64_t>(std::count(p, end, '\n'));
}

// Counts line breaks (LF, CRLF, lone CR) lazily, only when a line number is needed: errors are
// rare, and the cursor only moves forward, so the total cost stays linear.
class LineCounter {
public:
    explicit LineCounter(std::string_view input)
        : pos_(input.data()), end_(input.data() + input.size()) {}

    uint64_t line_at(const char* target) {
        // In stretches small enough to stay in the L1 cache between the two looks at them:
        // without carriage returns, lines are the LF count (count_line_feeds), so
        // errors far apart cost neither a byte-by-byte scan nor two trips to memory.
        constexpr std::size_t kStretch = 16 * 1024;
        while (pos_ < target) {
            const char* stop = pos_ + std::min(kStretch, static_cast<std::size_t>(target - pos_));
            if (std::memchr(pos_, '\r', static_cast<std::size_t>(stop - pos_)) == nullptr) {
                line_ += count_line_feeds(pos_, stop);
                pos_ = stop;
                continue;
            }
            while (pos_ < stop) {
                const char c = *pos_++;
                if (c == '\n') {
                    ++line_;
                } else if (c == '\r') {
                    if (pos_ < end_ && *pos_ == '\n') ++pos_;
                    ++line_;
                }
            }
        }
        return line_;
    }

private:
    const char* pos_;
    const char* end_;
    uint64_t line_ = 1;
};

// ------------------------------------------------------------------------------------------
// Decoding one input

/// The state of one CsvDecoder::decode() call.
class DecodeRun {
public:
    DecodeRun(const std::shared_ptr<const Schema>& schema, const CsvOptions& options,
              std::string_view input, DecodeSink& sink)
        : schema_(*schema),
          options_(options),
          input_(input),
          sink_(sink),
          reader_(without_bom(input), options.delimiter, options.quote),
          lines_(input),
          builder_(schema, std::min<std::size_t>(options.decode.batch_rows, 1 << 16)) {
        only_empty_null_marker_ =
            options.null_markers.size() == 1 && options.null_markers[0].empty();
    }

    Status run() {
        reader_.skip_lines(options_.skip_rows);
        if (options_.header) {
            if (!reader_.skip_blank_lines()) return {};
            MILLRACE_TRY(map_header());
        } else {
            expected_fields_ = schema_.size();
            for (std::size_t i = 0; i < expected_fields_; ++i) add_slot(i);
        }
        // In one-column input a blank line is a null, when the empty text is a null marker.
        const bool keep_blank_lines = expected_fields_ == 1 && is_null_marker("");
        for (;;) {
            if (keep_blank_lines ? reader_.at_end() : !reader_.skip_blank_lines()) break;
            reader_.read();
            MILLRACE_TRY(decode_record());
            ++record_index_;
        }
        return flush();
    }

private:
    static constexpr std::size_t kIgnored = std::numeric_limits<std::size_t>::max();

    /// Where the field at one CSV position goes.
    struct Slot {
        std::size_t column;  // schema field, or kIgnored
        DataType type;
        bool nullable;
        bool textual;  // string or bytes: a quoted field is never null
    };

    void add_slot(std::size_t column) {
        if (column == kIgnored) {
            slots_.push_back({kIgnored, DataType::kString, true, true});
            return;
        }
        const Field& field = schema_.field(column);
        const bool textual = field.type == DataType::kString || field.type == DataType::kBytes;
        slots_.push_back({column, field.type, field.nullable, textual});
        if (field.type == DataType::kString) check_utf8_ = true;
    }

    Status map_header() {
        const uint64_t line = lines_.line_at(reader_.position());
        MILLRACE_TRY(read_header(reader_, options_, &header_names_, line));
        expected_fields_ = header_names_.size();
        std::vector<std::size_t> targets(expected_fields_, kIgnored);
        std::vector<bool> present(schema_.size(), false);
        for (std::size_t i = 0; i < expected_fields_; ++i) {
            const std::optional<std::size_t> index = schema_.index_of(header_names_[i]);
            if (!index) continue;
            if (present[*index]) {
                return Error(ErrorCode::kParse,
                             "CSV header names column " + quoted_name(header_names_[i]) + " twice",
                             line_location(line));
            }
            present[*index] = true;
            targets[i] = *index;
        }
        for (std::size_t target : targets) add_slot(target);
        for (std::size_t f = 0; f < schema_.size(); ++f) {
            if (present[f]) continue;
            if (!schema_.field(f).nullable) {
                return Error(ErrorCode::kNotFound,
                             "CSV header has no column " + quoted_name(schema_.field(f).name) +
                                 ", which the schema declares not null",
                             line_location(line));
            }
            missing_.push_back(f);
        }
        return {};
    }

    Status decode_record() {
        const std::size_t record_bytes =
            static_cast<std::size_t>(reader_.record_end() - reader_.record_begin());
        if (reader_.problem() != RecordProblem::kNone) [[unlikely]] {
            report_structure_problem();
            return {};
        }
        const std::vector<FieldText>& fields = reader_.fields();
        if (fields.size() != expected_fields_) [[unlikely]] {
            report("expected " + std::to_string(expected_fields_) + " fields, got " +
                   std::to_string(fields.size()));
            return {};
        }
        if (batch_text_bytes_ + record_bytes > kMaxBatchTextBytes) [[unlikely]] {
            if (record_bytes > kMaxBatchTextBytes) {
                report("record of " + std::to_string(record_bytes) + " bytes is too large");
                return {};
            }
            MILLRACE_TRY(flush());
        }
        // Most records are ASCII: one check for the record spares a UTF-8 check per field.
        const bool ascii = !check_utf8_ || is_ascii(reader_.record_begin(), record_bytes);
        for (std::size_t i = 0; i < expected_fields_; ++i) {
            const Slot& slot = slots_[i];
            if (slot.column == kIgnored) continue;
            if (!convert(fields[i], slot, ascii)) [[unlikely]] {
                builder_.rollback_row();
                report(std::move(reason_));
                return {};
            }
        }
        for (std::size_t index : missing_) builder_.column(index).append_null();
        builder_.commit_row();
        batch_text_bytes_ += record_bytes;
        if (builder_.num_rows() >= options_.decode.batch_rows) return flush();
        return {};
    }

    bool is_null_marker(std::string_view text) const {
        if (only_empty_null_marker_) return text.empty();
        for (const std::string& marker : options_.null_markers) {
            if (text == marker) return true;
        }
        return false;
    }

    // Appends one field to its column; false (with reason_ set) when it does not fit. `ascii`
    // says the whole record is ASCII, hence valid UTF-8.
    bool convert(const FieldText& field, const Slot& slot, bool ascii) {
        const std::size_t index = slot.column;
        ColumnBuilder& builder = builder_.column(index);
        const std::string_view text = field_value(field, options_.quote, unescaped_);
        if ((!field.quoted || !slot.textual) && is_null_marker(text)) {
            if (!slot.nullable) [[unlikely]] {
                reason_ = "field " + quoted_name(schema_.field(index).name) +
                          " is null but declared not null";
                return false;
            }
            builder.append_null();
            return true;
        }
        switch (slot.type) {
            case DataType::kString: {
                const std::size_t bad = ascii ? std::string_view::npos : first_invalid_utf8(text);
                if (bad != std::string_view::npos) [[unlikely]] {
                    reason_ = column_prefix(index) + "invalid UTF-8 at byte " +
                              std::to_string(bad) + " of ";
                    append_excerpt(reason_, text);
                    return false;
                }
                builder.append_string(text);
                return true;
            }
            case DataType::kBytes:
                if (!decode_base64(text, &bytes_)) return fail(index, text, ParseStatus::kInvalid);
                builder.append_string(bytes_);
                return true;
            case DataType::kBool: {
                bool value = false;
                if (!parse_bool(trim_blanks(text), false, &value)) {
                    return fail(index, text, ParseStatus::kInvalid);
                }
                builder.append_bool(value);
                return true;
            }
            case DataType::kInt32: {
                int32_t value = 0;
                const ParseStatus status = parse_integer(trim_blanks(text), &value);
                if (status != ParseStatus::kOk) return fail(index, text, status);
                builder.append_int32(value);
                return true;
            }
            case DataType::kInt64: {
                int64_t value = 0;
                const ParseStatus status = parse_integer(trim_blanks(text), &value);
                if (status != ParseStatus::kOk) return fail(index, text, status);
                builder.append_int64(value);
                return true;
            }
            case DataType::kFloat64: {
                double value = 0;
                const ParseStatus status = parse_double(trim_blanks(text), &value);
                if (status != ParseStatus::kOk) return fail(index, text, status);
                builder.append_double(value);
                return true;
            }
            case DataType::kTimestamp: {
                int64_t micros = 0;
                const ParseStatus status =
                    parse_timestamp_value(trim_blanks(text), &micros, &timestamps_);
                if (status != ParseStatus::kOk) return fail(index, text, status);
                builder.append_timestamp(micros);
                return true;
            }
            case DataType::kDate: {
                const std::optional<int32_t> days = parse_date(trim_blanks(text));
                if (!days) return fail(index, text, ParseStatus::kInvalid);
                builder.append_date(*days);
                return true;
            }
        }
        return fail(index, text, ParseStatus::kInvalid);
    }

    std::string column_prefix(std::size_t index) const {
        return "field " + quoted_name(schema_.field(index).name) + ": ";
    }

    bool fail(std::size_t index, std::string_view text, ParseStatus status) {
        const std::string_view type = type_name(schema_.field(index).type);
        reason_ = column_prefix(index);
        if (status == ParseStatus::kOutOfRange) {
            reason_ += std::string(type) + " out of range: ";
        } else {
            reason_ += "expected " + std::string(type) + ", got ";
        }
        append_excerpt(reason_, text);
        return false;
    }

    // "field 3 (`city`)": the 1-based position and, when known, the column's name.
    std::string field_label(std::size_t position) const {
        std::string label = "field " + std::to_string(position + 1);
        if (position < header_names_.size()) {
            label += " (" + quoted_name(header_names_[position]) + ")";
        } else if (!options_.header && position < schema_.size()) {
            label += " (" + quoted_name(schema_.field(position).name) + ")";
        }
        return label;
    }

    void report_structure_problem() {
        std::string reason = field_label(reader_.problem_field()) + ": ";
        switch (reader_.problem()) {
            case RecordProblem::kStrayQuote:
                reason += "quote inside an unquoted field";
                break;
            case RecordProblem::kTextAfterQuote:
                reason += "text after a closing quote";
                break;
            case RecordProblem::kUnterminatedQuote:
                reason += "unterminated quoted field (the rest of the input is this record)";
                break;
            case RecordProblem::kNone:
                break;
        }
        report(std::move(reason));
    }

    void report(std::string reason) {
        const char* begin = reader_.record_begin();
        const std::size_t size = static_cast<std::size_t>(reader_.record_end() - begin);
        RowError error;
        error.record_index = record_index_;
        error.byte_offset = static_cast<uint64_t>(begin - input_.data());
        error.line = lines_.line_at(begin);
        error.reason = std::move(reason);
        error.raw.assign(begin, std::min(size, options_.decode.max_raw_bytes));
        sink_.on_error(std::move(error));
    }

    Status flush() {
        batch_text_bytes_ = 0;
        if (builder_.num_rows() == 0) return {};
        return sink_.on_batch(builder_.finish());
    }

    const Schema& schema_;
    const CsvOptions& options_;
    std::string_view input_;
    DecodeSink& sink_;
    RecordReader reader_;
    LineCounter lines_;
    BatchBuilder builder_;
    bool only_empty_null_marker_ = false;

    std::vector<std::string> header_names_;
    std::size_t expected_fields_ = 0;
    std::vector<Slot> slots_;           // by CSV field position
    bool check_utf8_ = false;           // some slot is a string column
    std::vector<std::size_t> missing_;  // schema fields the header lacks (always null)

    uint64_t record_index_ = 0;
    std::size_t batch_text_bytes_ = 0;
    std::string unescaped_;
    std::string bytes_;
    std::string reason_;
    CachedTimestampParser timestamps_;
};

}  // namespace

Status validate_csv_options(const CsvOptions& options) {
    auto is_line_break = [](char c) { return c == '\n' || c == '\r'; };
    if (options.delimiter == options.quote) {
        return Error(ErrorCode::kInvalidArgument, "CSV delimiter and quote must differ");
    }
    if (is_line_break(options.delimiter) || is_line_break(options.quote)) {
        return Error(ErrorCode::kInvalidArgument, "CSV delimiter and quote cannot be CR or LF");
    }
    if (options.decode.batch_rows == 0) {
        return Error(ErrorCode::kInvalidArgument, "batch_rows must be at least 1");
    }
    return {};
}

CsvDecoder::CsvDecoder(std::shared_ptr<const Schema> schema, CsvOptions options)
    : schema_(std::move(schema)), options_(std::move(options)) {
    MILLRACE_CHECK(schema_ != nullptr, "a CsvDecoder needs a schema");
}

Status CsvDecoder::decode(std::string_view input, DecodeSink& sink) {
    MILLRACE_TRY(validate_csv_options(options_));
    DecodeRun run(schema_, options_, input, sink);
    return run.run();
}

// ------------------------------------------------------------------------------------------
// Inference

namespace {

enum Candidate : uint8_t {
    kCandidateBool = 1,
    kCandidateInt64 = 2,
    kCandidateDouble = 4,
    kCandidateDate = 8,
    kCandidateTimestamp = 16,
    kCandidateAll = 31,
};

uint8_t candidates_of(std::string_view raw) {
    const std::string_view text = trim_blanks(raw);
    uint8_t mask = 0;
    bool flag = false;
    if (parse_bool(text, true, &flag)) mask |= kCandidateBool;
    int64_t integer = 0;
    if (parse_integer(text, &integer) == ParseStatus::kOk) mask |= kCandidateInt64;
    double number = 0;
    if (parse_double(text, &number) == ParseStatus::kOk) mask |= kCandidateDouble;
    if (parse_date(text)) mask |= kCandidateDate;
    int64_t micros = 0;
    if (parse_timestamp_text(text, &micros) == ParseStatus::kOk) mask |= kCandidateTimestamp;
    return mask;
}

DataType type_of_candidates(uint8_t mask) {
    if (mask & kCandidateBool) return DataType::kBool;
    if (mask & kCandidateInt64) return DataType::kInt64;
    if (mask & kCandidateDouble) return DataType::kFloat64;
    if (mask & kCandidateDate) return DataType::kDate;
    if (mask & kCandidateTimestamp) return DataType::kTimestamp;
    return DataType::kString;
}

}  // namespace

Result<Schema> infer_csv_schema(std::string_view sample, const CsvOptions& options) {
    MILLRACE_TRY(validate_csv_options(options));
    RecordReader reader(without_bom(sample), options.delimiter, options.quote);
    LineCounter lines(sample);
    reader.skip_lines(options.skip_rows);
    if (!reader.skip_blank_lines()) {
        return Error(ErrorCode::kParse, "the CSV sample holds no record to infer a schema from");
    }
    std::vector<std::string> names;
    if (options.header) {
        const uint64_t line = lines.line_at(reader.position());
        MILLRACE_TRY(read_header(reader, options, &names, line));
    } else {
        // Peek at the first record for the number of columns; it is read again below.
        RecordReader peek = reader;
        peek.read();
        for (std::size_t i = 0; i < peek.fields().size(); ++i) names.push_back(positional_name(i));
    }
    std::vector<uint8_t> masks(names.size(), kCandidateAll);
    std::vector<bool> seen(names.size(), false);
    std::string scratch;
    auto is_null_marker = [&](std::string_view text) {
        return std::find(options.null_markers.begin(), options.null_markers.end(), text) !=
               options.null_markers.end();
    };
    while (reader.skip_blank_lines()) {
        reader.read();
        if (reader.problem() == RecordProblem::kUnterminatedQuote) break;
        const std::vector<FieldText>& fields = reader.fields();
        if (reader.problem() != RecordProblem::kNone || fields.size() != names.size()) continue;
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const std::string_view text = field_value(fields[i], options.quote, scratch);
            // Quoted markers are skipped too: they decode as null unless the column is a string.
            if (is_null_marker(text)) continue;
            seen[i] = true;
            masks[i] &= candidates_of(text);
        }
    }
    std::vector<Field> fields;
    fields.reserve(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        fields.push_back({std::move(names[i]),
                          seen[i] ? type_of_candidates(masks[i]) : DataType::kString, true});
    }
    Result<Schema> schema = Schema::make(std::move(fields));
    if (!schema.ok()) {
        return Error(ErrorCode::kParse,
                     "cannot infer a schema from the CSV header: " + schema.error().message());
    }
    return schema;
}

}  // namespace millrace
