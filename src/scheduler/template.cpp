#include "scheduler/template.h"

#include <fmt/format.h>

#include <array>

#include "common/clock.h"
#include "common/suggest.h"
#include "scheduler/cron_expression.h"

namespace millrace {

namespace {

constexpr std::array<std::string_view, 6> kVariables = {
    "ds", "ds_nodash", "data_interval_start", "data_interval_end", "run_id", "project_dir"};

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

std::string local_date(int64_t micros, const TimeZone* zone, bool dashes) {
    int64_t seconds = micros / 1'000'000;
    if (zone != nullptr) seconds += zone->offset_at(seconds);
    const int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
    int64_t year = 0;
    unsigned month = 0, day = 0;
    civil_from_days(days, year, month, day);
    return dashes ? fmt::format("{:04}-{:02}-{:02}", year, month, day)
                  : fmt::format("{:04}{:02}{:02}", year, month, day);
}

std::string rfc3339_seconds(int64_t micros) {
    std::string text = format_utc_timestamp(micros);  // ...T..:..:..ssssssZ
    if (micros % 1'000'000 == 0 && text.size() > 8) text = text.substr(0, text.size() - 8) + "Z";
    return text;
}

// Calls visit(name, column) for each `{{ name }}`; stops at the first error.
template <typename Visit>
Status scan(std::string_view text, Visit&& visit) {
    std::size_t pos = 0;
    while (true) {
        const std::size_t open = text.find("{{", pos);
        if (open == std::string_view::npos) return {};
        const std::size_t close = text.find("}}", open + 2);
        const SourceLocation where{"", 1, static_cast<int>(open) + 1};
        if (close == std::string_view::npos) {
            return Error(ErrorCode::kConfig, "`{{` is never closed by `}}`", where);
        }
        const std::string_view name = trim(text.substr(open + 2, close - open - 2));
        if (!is_template_variable(name)) {
            std::vector<std::string> names(kVariables.begin(), kVariables.end());
            std::string hint;
            if (auto near = closest_match(name, names)) hint = "; did you mean `" + *near + "`?";
            return Error(ErrorCode::kConfig,
                         "unknown template parameter `" + std::string(name) + "`" + hint +
                             " (known: ds, ds_nodash, data_interval_start, data_interval_end, "
                             "run_id, project_dir)",
                         where);
        }
        visit(open, close + 2, name);
        pos = close + 2;
    }
}

}  // namespace

bool is_template_variable(std::string_view name) {
    for (std::string_view v : kVariables) {
        if (v == name) return true;
    }
    return false;
}

Status check_template(std::string_view text) {
    return scan(text, [](std::size_t, std::size_t, std::string_view) {});
}

Result<std::string> render_template(std::string_view text, const TemplateContext& context) {
    std::string out;
    std::size_t copied = 0;
    Status status = scan(text, [&](std::size_t begin, std::size_t end, std::string_view name) {
        out.append(text.substr(copied, begin - copied));
        copied = end;
        if (name == "ds") {
            out += local_date(context.interval_start_micros, context.zone, true);
        } else if (name == "ds_nodash") {
            out += local_date(context.interval_start_micros, context.zone, false);
        } else if (name == "data_interval_start") {
            out += rfc3339_seconds(context.interval_start_micros);
        } else if (name == "data_interval_end") {
            out += rfc3339_seconds(context.interval_end_micros);
        } else if (name == "run_id") {
            out += context.run_id;
        } else if (name == "project_dir") {
            out += context.project_dir;
        }
    });
    if (!status.ok()) return std::move(status).error();
    out.append(text.substr(copied));
    return out;
}

}  // namespace millrace
