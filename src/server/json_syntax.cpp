#include "server/json_syntax.h"

#include <cstddef>
#include <optional>

#include "common/error.h"

namespace millrace {

namespace {

struct SyntaxError {
    std::size_t offset;
    std::string reason;
};

class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    std::optional<SyntaxError> run() {
        skip_blanks();
        if (auto error = value(0)) return error;
        skip_blanks();
        if (pos_ < text_.size()) return fail("unexpected text after the JSON value");
        return std::nullopt;
    }

private:
    static constexpr int kMaxDepth = 1024;

    std::optional<SyntaxError> fail(std::string reason) const {
        return SyntaxError{pos_, std::move(reason)};
    }

    void skip_blanks() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                       text_[pos_] == '\n' || text_[pos_] == '\r')) {
            ++pos_;
        }
    }

    std::optional<SyntaxError> value(int depth) {
        if (depth > kMaxDepth) return fail("nesting deeper than 1024");
        if (pos_ >= text_.size()) return fail("unexpected end of input; expected a value");
        const char c = text_[pos_];
        if (c == '{') return object(depth);
        if (c == '[') return array(depth);
        if (c == '"') return string();
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        for (std::string_view word : {"true", "false", "null"}) {
            if (text_.substr(pos_, word.size()) == word) {
                pos_ += word.size();
                return std::nullopt;
            }
        }
        return fail("expected a value (object, array, string, number, true, false or null)");
    }

    std::optional<SyntaxError> object(int depth) {
        ++pos_;
        skip_blanks();
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return std::nullopt;
        }
        while (true) {
            skip_blanks();
            if (pos_ >= text_.size() || text_[pos_] != '"') {
                return fail("expected a string key in the object");
            }
            if (auto error = string()) return error;
            skip_blanks();
            if (pos_ >= text_.size() || text_[pos_] != ':') {
                return fail("expected `:` after an object key");
            }
            ++pos_;
            skip_blanks();
            if (auto error = value(depth + 1)) return error;
            skip_blanks();
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] == '}') {
                ++pos_;
                return std::nullopt;
            }
            return fail("expected `,` or `}` in the object");
        }
    }

    std::optional<SyntaxError> array(int depth) {
        ++pos_;
        skip_blanks();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return std::nullopt;
        }
        while (true) {
            skip_blanks();
            if (auto error = value(depth + 1)) return error;
            skip_blanks();
            if (pos_ < text_.size() && text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < text_.size() && text_[pos_] == ']') {
                ++pos_;
                return std::nullopt;
            }
            return fail("expected `,` or `]` in the array");
        }
    }

    std::optional<SyntaxError> string() {
        ++pos_;  // the opening quote
        while (pos_ < text_.size()) {
            const auto c = static_cast<unsigned char>(text_[pos_]);
            if (c == '"') {
                ++pos_;
                return std::nullopt;
            }
            if (c < 0x20) return fail("control character in a string");
            if (c == '\\') {
                ++pos_;
                if (pos_ >= text_.size()) break;
                const char escape = text_[pos_];
                if (escape == 'u') {
                    for (int i = 1; i <= 4; ++i) {
                        const char h = pos_ + i < text_.size() ? text_[pos_ + i] : '\0';
                        const bool hex = (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                                         (h >= 'A' && h <= 'F');
                        if (!hex) return fail("invalid \\u escape in a string");
                    }
                    pos_ += 4;
                } else if (std::string_view("\"\\/bfnrt").find(escape) == std::string_view::npos) {
                    return fail("invalid escape in a string");
                }
            }
            ++pos_;
        }
        return fail("unterminated string");
    }

    std::optional<SyntaxError> number() {
        auto digits = [this] {
            const std::size_t start = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
            return pos_ > start;
        };
        if (text_[pos_] == '-') ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '0') {
            ++pos_;
        } else if (!digits()) {
            return fail("invalid number");
        }
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            if (!digits()) return fail("invalid number: digits expected after `.`");
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            if (!digits()) return fail("invalid number: digits expected in the exponent");
        }
        return std::nullopt;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string describe_json_syntax_error(std::string_view text, std::string_view fallback) {
    std::optional<SyntaxError> error = Scanner(text).run();
    const std::size_t offset = error ? error->offset : 0;
    const SourceLocation at = location_at(text, offset, "");
    return "malformed JSON at line " + std::to_string(at.line) + ", column " +
           std::to_string(at.column) + ": " + (error ? error->reason : std::string(fallback));
}

}  // namespace millrace
