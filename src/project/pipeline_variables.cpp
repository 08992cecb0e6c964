#include "project/pipeline_variables.h"

#include <array>
#include <set>

#include "common/suggest.h"

namespace millrace {

namespace {

constexpr std::array<std::string_view, 5> kBuiltins = {"ds", "ds_nodash", "data_interval_start",
                                                       "data_interval_end", "run_id"};

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

std::string known_list(const std::map<std::string, std::string>& declared) {
    std::string list;
    for (std::string_view name : kBuiltins) list += (list.empty() ? "" : ", ") + std::string(name);
    for (const auto& [name, value] : declared) {
        if (!is_builtin_pipeline_variable(name)) list += ", " + name;
    }
    return list;
}

// Calls visit(begin, end, name) for each `{{ name }}` of `text`; stops at the first error.
template <typename Visit>
Status scan(std::string_view text, const std::map<std::string, std::string>& declared,
            Visit&& visit) {
    std::size_t pos = 0;
    while (true) {
        const std::size_t open = text.find("{{", pos);
        if (open == std::string_view::npos) return {};
        const SourceLocation where{"", 1, static_cast<int>(open) + 1};
        const std::size_t close = text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            return Error(ErrorCode::kConfig, "`{{` is never closed by `}}`", where);
        }
        const std::string name(trim(text.substr(open + 2, close - open - 2)));
        if (!is_builtin_pipeline_variable(name) && declared.find(name) == declared.end()) {
            std::vector<std::string> names(kBuiltins.begin(), kBuiltins.end());
            for (const auto& entry : declared) names.push_back(entry.first);
            std::string hint;
            if (auto near = closest_match(name, names)) hint = "; did you mean `" + *near + "`?";
            return Error(ErrorCode::kConfig,
                         "unknown variable `" + name + "`" + hint +
                             " (known: " + known_list(declared) + "; declare others under `vars:`)",
                         where);
        }
        MILLRACE_TRY(visit(open, close + 2, name));
        pos = close + 2;
    }
}

}  // namespace

bool is_builtin_pipeline_variable(std::string_view name) {
    for (std::string_view builtin : kBuiltins) {
        if (builtin == name) return true;
    }
    return false;
}

Status check_pipeline_variables(std::string_view text,
                                const std::map<std::string, std::string>& declared) {
    return scan(text, declared,
                [](std::size_t, std::size_t, const std::string&) -> Status { return {}; });
}

Result<std::map<std::string, std::string>> pipeline_variable_values(
    const PipelineSpec& pipeline, const std::map<std::string, std::string>& given) {
    std::map<std::string, std::string> values = pipeline.variables;
    for (const auto& [name, value] : given) {
        if (!is_builtin_pipeline_variable(name) &&
            pipeline.variables.find(name) == pipeline.variables.end()) {
            return Error(ErrorCode::kInvalidArgument,
                         "unknown variable `" + name + "` for pipeline `" + pipeline.name +
                             "` (known: " + known_list(pipeline.variables) + ")");
        }
    }
    if (auto ds = given.find("ds"); ds != given.end() && given.count("ds_nodash") == 0) {
        std::string nodash;
        for (char c : ds->second) {
            if (c != '-') nodash += c;
        }
        values["ds_nodash"] = nodash;
    }
    for (const auto& [name, value] : given) values[name] = value;
    return values;
}

Result<PipelineSpec> bind_pipeline_variables(const PipelineSpec& pipeline,
                                             const std::map<std::string, std::string>& given,
                                             std::vector<std::string>* assumed) {
    MILLRACE_ASSIGN_OR_RETURN(auto values, pipeline_variable_values(pipeline, given));
    PipelineSpec bound = pipeline;
    std::set<std::string> noted;
    auto render = [&](std::string& path, const SourceLocation& location,
                      const std::string& what) -> Status {
        if (path.find("{{") == std::string::npos) return {};
        std::string out;
        std::size_t copied = 0;
        Status status =
            scan(path, pipeline.variables,
                 [&](std::size_t begin, std::size_t end, const std::string& name) -> Status {
                     out.append(path, copied, begin - copied);
                     copied = end;
                     if (auto it = values.find(name); it != values.end()) {
                         out += it->second;
                         const bool derived = name == "ds_nodash" && given.count("ds") > 0;
                         if (assumed != nullptr && given.count(name) == 0 && !derived &&
                             noted.insert(name).second) {
                             assumed->push_back("pipeline `" + pipeline.name + "`: assumed `{{ " +
                                                name + " }}` = `" + it->second +
                                                "` (its default under vars:); give --var " + name +
                                                "=... to check another value");
                         }
                         return {};
                     }
                     if (assumed == nullptr) {
                         return Error(ErrorCode::kInvalidArgument,
                                      what + " uses `{{ " + name +
                                          " }}`, which has no value; give it with "
                                          "`--var " +
                                          name + "=...`" +
                                          (name == "ds" || name == "ds_nodash"
                                               ? " (e.g. --var ds=2026-11-03)"
                                               : "") +
                                          " or a default under `vars:`",
                                      location);
                     }
                     if (noted.insert(name).second) {
                         assumed->push_back("pipeline `" + pipeline.name + "`: assumed `{{ " +
                                            name + " }}` = `*` (any file); give --var " + name +
                                            "=... to check one value");
                     }
                     out += '*';
                     return {};
                 });
        if (!status.ok()) {
            Error error = std::move(status).error();
            if (error.location().file.empty()) error = std::move(error).with_location(location);
            return error;
        }
        out.append(path, copied, std::string::npos);
        path = std::move(out);
        return {};
    };
    for (SourceSpec& source : bound.sources) {
        if (source.kind != SourceKind::kFile) continue;
        MILLRACE_TRY(render(source.path, source.path_location, "source `" + source.name + "`"));
    }
    for (SinkSpec& sink : bound.sinks) {
        if (sink.kind != SinkKind::kFile) continue;
        MILLRACE_TRY(render(sink.path, sink.path_location, "file sink of `" + sink.from + "`"));
    }
    return bound;
}

Result<std::map<std::string, std::string>> parse_variable_assignments(
    const std::vector<std::string>& assignments) {
    std::map<std::string, std::string> values;
    for (const std::string& assignment : assignments) {
        const std::size_t equals = assignment.find('=');
        if (equals == std::string::npos || equals == 0) {
            return Error(ErrorCode::kInvalidArgument,
                         "--var `" + assignment + "`: expected name=value, e.g. ds=2026-11-03");
        }
        values[assignment.substr(0, equals)] = assignment.substr(equals + 1);
    }
    return values;
}

}  // namespace millrace
