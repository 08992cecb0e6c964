#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "scheduler/time_zone.h"

namespace millrace {

/// The values a run's task parameters are templated from: its data interval [start, end) in
/// UTC microseconds, the job's time zone (`ds` is the interval start's local date) and ids.
struct TemplateContext {
    int64_t interval_start_micros = 0;
    int64_t interval_end_micros = 0;
    const TimeZone* zone = nullptr;  // nullptr = UTC
    std::string run_id;
    std::string project_dir;
};

/// The names `{{ name }}` may use: ds (YYYY-MM-DD), ds_nodash (YYYYMMDD), data_interval_start
/// and data_interval_end (RFC 3339 UTC), run_id, project_dir.
bool is_template_variable(std::string_view name);

/// Checks `text` without rendering: every `{{ ... }}` is closed and names a known variable.
/// Errors are kConfig with the 1-based column of the `{{` inside `text` in the location.
Status check_template(std::string_view text);

/// Replaces every `{{ name }}` of `text` with its value. check_template() first.
Result<std::string> render_template(std::string_view text, const TemplateContext& context);

}  // namespace millrace
