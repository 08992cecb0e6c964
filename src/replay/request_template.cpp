#include "replay/request_template.h"

#include <charconv>

namespace millrace {

namespace {

bool parse_int(std::string_view text, int64_t& value) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> fields;
    while (true) {
        const std::size_t at = text.find(separator);
        fields.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return fields;
        text.remove_prefix(at + 1);
    }
}

void append_int(std::string& out, int64_t value) {
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

}  // namespace

Result<RequestTemplate> RequestTemplate::parse(std::string_view text) {
    RequestTemplate result;
    std::string literal;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::string_view rest = text.substr(at);
        const bool is_rand = rest.starts_with("{rand:");
        const bool is_keys = rest.starts_with("{keys:");
        if (!is_rand && !is_keys) {
            literal += text[at++];
            continue;
        }
        const std::size_t close = rest.find('}');
        if (close == std::string_view::npos) {
            return Error(ErrorCode::kParse,
                         "unclosed placeholder at character " + std::to_string(at + 1));
        }
        const std::string_view placeholder = rest.substr(0, close + 1);
        const auto fields = split(rest.substr(6, close - 6), ':');
        Part part;
        part.literal = false;
        bool ok = fields.size() == (is_rand ? 2u : 3u);
        if (ok && is_keys) {
            int64_t count = 0;
            ok = parse_int(fields[0], count) && count > 0 && count <= 1'000'000;
            part.count = static_cast<uint32_t>(count);
        }
        const std::size_t first = is_rand ? 0 : 1;
        ok = ok && parse_int(fields[first], part.low) && parse_int(fields[first + 1], part.high) &&
             part.low <= part.high;
        if (!ok) {
            return Error(ErrorCode::kParse,
                         "bad placeholder `" + std::string(placeholder) +
                             "`: expected {rand:LO:HI} or {keys:N:LO:HI} with LO <= HI, N >= 1");
        }
        if (!literal.empty()) {
            Part text_part;
            text_part.text = std::move(literal);
            result.parts_.push_back(std::move(text_part));
            literal.clear();
        }
        result.parts_.push_back(part);
        at += close + 1;
    }
    if (!literal.empty()) {
        Part text_part;
        text_part.text = std::move(literal);
        result.parts_.push_back(std::move(text_part));
    }
    return result;
}

void RequestTemplate::expand(Rng& rng, std::string& out) const {
    for (const Part& part : parts_) {
        if (part.literal) {
            out += part.text;
            continue;
        }
        std::uniform_int_distribution<int64_t> draw(part.low, part.high);
        if (part.count == 0) {
            append_int(out, draw(rng));
            continue;
        }
        out += '[';
        for (uint32_t i = 0; i < part.count; ++i) {
            if (i > 0) out += ',';
            append_int(out, draw(rng));
        }
        out += ']';
    }
}

std::string RequestTemplate::expand(Rng& rng) const {
    std::string out;
    expand(rng, out);
    return out;
}

}  // namespace millrace
