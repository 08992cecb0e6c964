#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "exec/scalar_functions.h"

namespace millrace {

/// Kernels of the log-analytics functions (registered in scalar_functions.cpp):
///
///   ua_browser(ua) ua_os(ua) ua_device(ua)   families by uap-core's regexes (UserAgentParser)
///   parse_user_agent(ua, part)               bound to one of the three
///   ip_country(ip, db) ip_city(ip, db)       `db`, the .mmdb path, appended by the binder
///   url_host(url) url_path(url) url_param(url, name) parse_url(url, part[, name])
///
/// A UA that matches no regex is "Other"; an IP the database does not know is null, and text
/// that is not an IP address is a row error (a dead letter saying so), as is a database that
/// cannot be opened. URLs that do not parse give null.
std::shared_ptr<const Column> user_agent_kernel(const sql::BoundExpr& expr,
                                                const std::vector<Operand>& args, std::size_t rows,
                                                KernelContext& context);
std::shared_ptr<const Column> geoip_kernel(const sql::BoundExpr& expr,
                                           const std::vector<Operand>& args, std::size_t rows,
                                           KernelContext& context);
std::shared_ptr<const Column> url_kernel(const sql::BoundExpr& expr,
                                         const std::vector<Operand>& args, std::size_t rows,
                                         KernelContext& context);

/// The parts of an absolute URL `scheme://[userinfo@]host[:port][/path][?query][#fragment]`,
/// as views into it; nullopt when it has no `scheme://`.
struct UrlParts {
    std::string_view scheme, userinfo, host, port, path, query, fragment, authority;
};
std::optional<UrlParts> split_url(std::string_view url);
/// The value of query parameter `name` in `query` (`a=1&b=2`), percent- and '+'-decoded;
/// "" when it is there without a value, nullopt when it is not there.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace millrace
