#include "server/record_splitter.h"

namespace millrace {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

}  // namespace

Result<std::vector<std::string_view>> split_json_records(std::string_view body) {
    std::vector<std::string_view> records;
    std::size_t start = 0;
    while (start < body.size() && is_blank(body[start])) ++start;
    if (start == body.size()) return records;
    if (body[start] != '[') {
        while (start < body.size()) {
            std::size_t end = body.find('\n', start);
            if (end == std::string_view::npos) end = body.size();
            const std::string_view line = trim(body.substr(start, end - start));
            if (!line.empty()) records.push_back(line);
            start = end + 1;
        }
        return records;
    }
    int depth = 0;
    bool in_string = false;
    std::size_t element = start + 1;
    for (std::size_t i = start + 1; i < body.size(); ++i) {
        const char c = body[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        } else if (c == ',' && depth == 0) {
            records.push_back(trim(body.substr(element, i - element)));
            element = i + 1;
        } else if (c == ']' && depth == 0) {
            const std::string_view last = trim(body.substr(element, i - element));
            if (!last.empty() || !records.empty()) records.push_back(last);
            if (!trim(body.substr(i + 1)).empty()) {
                return Error(ErrorCode::kParse, "unexpected bytes after the JSON array");
            }
            return records;
        }
    }
    return Error(ErrorCode::kParse, "the JSON array is not closed");
}

}  // namespace millrace
