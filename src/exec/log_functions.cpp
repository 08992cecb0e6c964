#include "exec/log_functions.h"

#include <fmt/format.h>

#include <cctype>
#include <unordered_map>

#include "exec/geoip_database.h"
#include "exec/user_agent_parser.h"
#include "types/column_builder.h"

namespace millrace {

using sql::Function;

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '+') {
            out.push_back(' ');
        } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
                   hex_digit(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace

std::optional<UrlParts> split_url(std::string_view url) {
    UrlParts parts;
    const std::size_t colon = url.find("://");
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    for (char c : url.substr(0, colon)) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        if (!ok) return std::nullopt;
    }
    parts.scheme = url.substr(0, colon);
    std::string_view rest = url.substr(colon + 3);
    if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
        parts.fragment = rest.substr(hash + 1);
        rest = rest.substr(0, hash);
    }
    if (const std::size_t question = rest.find('?'); question != std::string_view::npos) {
        parts.query = rest.substr(question + 1);
        rest = rest.substr(0, question);
    }
    const std::size_t slash = rest.find('/');
    parts.authority = rest.substr(0, slash);
    if (slash != std::string_view::npos) parts.path = rest.substr(slash);
    std::string_view host = parts.authority;
    if (const std::size_t at = host.rfind('@'); at != std::string_view::npos) {
        parts.userinfo = host.substr(0, at);
        host = host.substr(at + 1);
    }
    if (!host.empty() && host.front() == '[') {  // [IPv6]:port
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        if (close + 1 < host.size() && host[close + 1] == ':') parts.port = host.substr(close + 2);
        host = host.substr(1, close - 1);
    } else if (const std::size_t port = host.rfind(':'); port != std::string_view::npos) {
        parts.port = host.substr(port + 1);
        host = host.substr(0, port);
    }
    if (host.empty()) return std::nullopt;
    parts.host = host;
    return parts;
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const std::size_t eq = pair.find('=');
        const std::string key = percent_decode(pair.substr(0, eq));
        if (key != name) continue;
        if (eq == std::string_view::npos) return std::string();
        return percent_decode(pair.substr(eq + 1));
    }
    return std::nullopt;
}

std::shared_ptr<const Column> user_agent_kernel(const sql::BoundExpr& expr,
                                                const std::vector<Operand>& args, std::size_t rows,
                                                KernelContext& context) {
    ColumnBuilder out(DataType::kString, rows);
    auto parser = UserAgentParser::shared();
    // Logs repeat a few thousand User-Agents: each distinct one of a batch is parsed once.
    std::unordered_map<std::string_view, std::string> parsed;
    for (std::size_t i = 0; i < rows; ++i) {
        if (args[0].null(i)) {
            out.append_null();
            continue;
        }
        if (!parser.ok()) {
            context.errors.add(static_cast<uint32_t>(i), parser.error().message());
            out.append_null();
            continue;
        }
        const std::string_view ua = args[0].str(i);
        auto it = parsed.find(ua);
        if (it == parsed.end()) {
            UserAgentParser::Families families = (*parser)->parse(ua);
            std::string family = expr.function == Function::kUaBrowser ? families.browser
                                 : expr.function == Function::kUaOs    ? families.os
                                                                       : families.device;
            it = parsed.emplace(ua, std::move(family)).first;
        }
        out.append_string(it->second);
    }
    return std::make_shared<const Column>(out.finish());
}

std::shared_ptr<const Column> geoip_kernel(const sql::BoundExpr& expr,
                                           const std::vector<Operand>& args, std::size_t rows,
                                           KernelContext& context) {
    ColumnBuilder out(DataType::kString, rows);
    const Operand& path = args.back();  // the binder's constant: one database for the batch
    std::optional<Result<std::shared_ptr<const GeoIpDatabase>>> opened;
    for (std::size_t i = 0; i < rows; ++i) {
        if (args[0].null(i) || path.null(i)) {
            out.append_null();
            continue;
        }
        if (!opened || !path.constant)
            opened = GeoIpDatabase::open_shared(std::string(path.str(i)));
        const auto& db = *opened;
        if (!db.ok()) {
            context.errors.add(static_cast<uint32_t>(i), db.error().message());
            out.append_null();
            continue;
        }
        auto found = expr.function == Function::kIpCountry ? (*db)->country(args[0].str(i))
                                                           : (*db)->city(args[0].str(i));
        if (!found.ok()) {
            context.errors.add(static_cast<uint32_t>(i), found.error().message());
            out.append_null();
        } else if (!found->has_value()) {
            out.append_null();
        } else {
            out.append_string(**found);
        }
    }
    return std::make_shared<const Column>(out.finish());
}

std::shared_ptr<const Column> url_kernel(const sql::BoundExpr& expr,
                                         const std::vector<Operand>& args, std::size_t rows,
                                         KernelContext& context) {
    ColumnBuilder out(DataType::kString, rows);
    for (std::size_t i = 0; i < rows; ++i) {
        bool any_null = false;
        for (const Operand& a : args) any_null = any_null || a.null(i);
        std::optional<UrlParts> parts;
        if (!any_null) parts = split_url(args[0].str(i));
        if (!parts) {
            out.append_null();
            continue;
        }
        std::optional<std::string> value;
        switch (expr.function) {
            case Function::kUrlHost:
                value = std::string(parts->host);
                break;
            case Function::kUrlPath:
                value = std::string(parts->path.empty() ? "/" : parts->path);
                break;
            case Function::kUrlParam:
                value = query_param(parts->query, args[1].str(i));
                break;
            default: {  // parse_url(url, part[, name]), Spark's parts
                std::string part(args[1].str(i));
                for (char& c : part)
                    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                if (args.size() == 3 && part == "QUERY") {
                    value = query_param(parts->query, args[2].str(i));
                } else if (part == "HOST") {
                    value = std::string(parts->host);
                } else if (part == "PATH") {
                    value = std::string(parts->path);
                } else if (part == "QUERY") {
                    if (!parts->query.empty()) value = std::string(parts->query);
                } else if (part == "REF") {
                    if (!parts->fragment.empty()) value = std::string(parts->fragment);
                } else if (part == "PROTOCOL") {
                    value = std::string(parts->scheme);
                } else if (part == "AUTHORITY") {
                    value = std::string(parts->authority);
                } else if (part == "USERINFO") {
                    if (!parts->userinfo.empty()) value = std::string(parts->userinfo);
                } else if (part == "FILE") {
                    value = std::string(parts->path);
                    if (!parts->query.empty()) *value += "?" + std::string(parts->query);
                } else {
                    context.errors.add(static_cast<uint32_t>(i),
                                       fmt::format("parse_url(): unknown part \"{}\" (HOST, PATH, "
                                                   "QUERY, REF, PROTOCOL, AUTHORITY, FILE, "
                                                   "USERINFO)",
                                                   part.substr(0, 32)));
                }
                break;
            }
        }
        if (value) {
            out.append_string(*value);
        } else {
            out.append_null();
        }
    }
    return std::make_shared<const Column>(out.finish());
}

}  // namespace millrace
