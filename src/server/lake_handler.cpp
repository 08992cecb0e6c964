#include "server/lake_handler.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "common/json_string.h"
#include "lake/lake_table.h"
#include "types/time_codec.h"

namespace millrace {

namespace {

void append_snapshot(std::string& out, const Manifest& m) {
    out += fmt::format("{{\"snapshot_id\":{},\"parent_id\":{},\"operation\":", m.snapshot_id,
                       m.parent_id);
    append_json_string(out, m.operation);
    out += fmt::format(",\"committed_at\":\"{}\",\"files\":{},\"rows\":{},\"bytes\":{}}}",
                       format_timestamp(m.committed_at_micros), m.files.size(), m.total_rows(),
                       m.total_bytes());
}

}  // namespace

LakeHandler::LakeHandler(std::string data_dir) : data_dir_(std::move(data_dir)) {}

void LakeHandler::add_routes(Router& router) {
    router.add(
        HttpMethod::kGet, "/v1/lake/tables", "lake_tables",
        [this](HttpRequest&, HttpResponder respond) { respond(list()); }, "admin");
    router.add(
        HttpMethod::kGet, "/v1/lake/tables/{table}", "lake_table",
        [this](HttpRequest& request, HttpResponder respond) { respond(describe(request)); },
        "admin");
}

HttpResponse LakeHandler::list() const {
    Result<std::vector<std::string>> names = LakeTable::list(data_dir_);
    if (!names.ok()) return json_error_for(names.error());
    std::string out = "{\"tables\":[";
    bool first = true;
    for (const std::string& name : *names) {
        if (!first) out += ",";
        first = false;
        Result<LakeTable> table = LakeTable::open(data_dir_, name);
        Result<Manifest> m = table.ok() ? table->snapshot() : Result<Manifest>(table.error());
        if (!m.ok()) {
            // One unreadable table does not hide the others.
            out += "{\"name\":";
            append_json_string(out, name);
            out += ",\"error\":";
            append_json_string(out, m.error().to_string());
            out += "}";
            continue;
        }
        out += "{\"name\":";
        append_json_string(out, name);
        out += ",";
        std::string snapshot;
        append_snapshot(snapshot, *m);
        out += snapshot.substr(1);  // the snapshot's fields inside the table's object
    }
    out += "]}";
    return json_response(std::move(out));
}

HttpResponse LakeHandler::describe(const HttpRequest& request) const {
    const std::string& name = request.param("table");
    int64_t limit = 100;
    if (const std::string* text = request.query_param("limit")) {
        auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
        if (ec != std::errc() || ptr != text->data() + text->size() || limit < 1 ||
            limit > 100000) {
            return json_error(400, "limit must be an integer from 1 to 100000");
        }
    }
    Result<LakeTable> table = LakeTable::open(data_dir_, name);
    if (!table.ok()) return json_error_for(table.error());
    Result<std::vector<Manifest>> history = table->history();
    if (!history.ok()) return json_error_for(history.error());
    std::string out = "{\"name\":";
    append_json_string(out, name);
    out += ",\"schema\":[";
    const Schema& schema = *table->schema();
    for (std::size_t i = 0; i < schema.size(); ++i) {
        if (i > 0) out += ",";
        out += "{\"name\":";
        append_json_string(out, schema.field(i).name);
        out += ",\"type\":";
        append_json_string(out, type_name(schema.field(i).type));
        out += "}";
    }
    out += "],\"partition_by\":[";
    const std::vector<std::string>& partition_by =
        history->empty() ? std::vector<std::string>{} : history->back().partition_by;
    for (std::size_t i = 0; i < partition_by.size(); ++i) {
        if (i > 0) out += ",";
        append_json_string(out, partition_by[i]);
    }
    out += fmt::format("],\"snapshot_id\":{},\"snapshots\":[",
                       history->empty() ? 0 : history->back().snapshot_id);
    std::size_t shown = 0;
    for (auto it = history->rbegin();
         it != history->rend() && shown < static_cast<std::size_t>(limit); ++it, ++shown) {
        if (shown > 0) out += ",";
        append_snapshot(out, *it);
    }
    out += "]}";
    return json_response(std::move(out));
}

}  // namespace millrace
