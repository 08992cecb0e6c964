#include "connectors/feature_writer.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "common/clock.h"
#include "formats/json_encoder.h"
#include "net/http_client.h"
#include "project/project.h"
#include "types/batch.h"

namespace millrace {

namespace {

constexpr std::size_t kRowsPerRequest = 5000;

class StoreFeatureWriter final : public FeatureWriter {
public:
    StoreFeatureWriter(OnlineStore& store, const Clock* clock)
        : store_(store), clock_(clock != nullptr ? *clock : system_clock_) {}
    Result<UpsertCounts> upsert(const FeatureView& view, const Batch& batch,
                                const UpsertColumns& columns) override {
        return store_.upsert(view, batch, columns, clock_.now_micros());
    }
    Status flush() override { return store_.sync(); }  // the write-ahead log, synced
    std::string describe() const override { return "the online store"; }

private:
    OnlineStore& store_;
    SystemClock system_clock_;
    const Clock& clock_;
};

/// Sends rows as NDJSON to `POST /v1/features/{view}/upsert`: each row an object with the
/// entity and feature names and `event_timestamp`.
class HttpFeatureWriter final : public FeatureWriter {
public:
    HttpFeatureWriter(HttpUrl endpoint, std::string url)
        : client_(std::move(endpoint), std::chrono::seconds(60)), url_(std::move(url)) {}

    Result<UpsertCounts> upsert(const FeatureView& view, const Batch& batch,
                                const UpsertColumns& columns) override {
        // The batch as the server reads it: columns renamed to the view's names.
        std::vector<Field> fields;
        std::vector<std::shared_ptr<const Column>> cols;
        for (std::size_t k = 0; k < view.entities.size(); ++k) {
            Field field = batch.schema().field(columns.key_columns[k]);
            field.name = view.entities[k].name;
            fields.push_back(std::move(field));
            cols.push_back(batch.column_ptr(columns.key_columns[k]));
        }
        for (std::size_t f = 0; f < view.features.size(); ++f) {
            if (columns.feature_columns[f] < 0) continue;
            Field field = batch.schema().field(columns.feature_columns[f]);
            field.name = view.features[f].name;
            fields.push_back(std::move(field));
            cols.push_back(batch.column_ptr(columns.feature_columns[f]));
        }
        if (columns.event_time_column >= 0) {
            Field field = batch.schema().field(columns.event_time_column);
            field.name = "event_timestamp";
            fields.push_back(std::move(field));
            cols.push_back(batch.column_ptr(columns.event_time_column));
        }
        Batch renamed(std::make_shared<const Schema>(std::move(fields)), std::move(cols),
                      batch.num_rows());

        UpsertCounts counts;
        JsonEncoder encoder;
        std::string body;
        const std::string target = fmt::format("/v1/features/{}/upsert", view.name);
        for (std::size_t first = 0; first < renamed.num_rows(); first += kRowsPerRequest) {
            const std::size_t count = std::min(kRowsPerRequest, renamed.num_rows() - first);
            std::vector<uint32_t> rows(count);
            for (std::size_t i = 0; i < count; ++i) rows[i] = static_cast<uint32_t>(first + i);
            body.clear();
            encoder.encode(renamed.take(rows), body);
            MILLRACE_ASSIGN_OR_RETURN(
                HttpReply response, client_.request("POST", target, body, "application/x-ndjson"));
            // 400 with per-row errors: every row of the request was rejected, which is row
            // errors (dead letters), not a failed write.
            const bool all_rejected =
                response.status == 400 && response.body.find("\"errors\":[{") != std::string::npos;
            if (response.status != 200 && !all_rejected) {
                return Error(response.status == 404 ? ErrorCode::kNotFound : ErrorCode::kIo,
                             fmt::format("{} answered {} to {}: {}", url_, response.status, target,
                                         response.body));
            }
            MILLRACE_TRY(read_response(response.body, first, counts));
        }
        return counts;
    }

    Status flush() override { return {}; }  // the server flushes its store
    std::string describe() const override { return "millrace serve at " + url_; }

private:
    // {"upserted": N, "unchanged": U, "rejected": M, "errors": [{"index": i, "error": "..."}]}
    // Unchanged rows (the store keeps a newer one) are taken rows, as with a local store.
    Status read_response(const std::string& body, std::size_t first, UpsertCounts& counts) {
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (parser.parse(body).get(root) != simdjson::SUCCESS) {
            return Error(ErrorCode::kIo, fmt::format("{}: the upsert answer is not JSON: {}", url_,
                                                     body.substr(0, 200)));
        }
        int64_t upserted = 0;
        if (root["upserted"].get(upserted) == simdjson::SUCCESS) counts.rows += upserted;
        int64_t unchanged = 0;
        if (root["unchanged"].get(unchanged) == simdjson::SUCCESS) counts.rows += unchanged;
        simdjson::dom::array errors;
        if (root["errors"].get(errors) == simdjson::SUCCESS) {
            for (simdjson::dom::element error : errors) {
                uint64_t index = 0;
                std::string_view reason;
                if (error["index"].get(index) != simdjson::SUCCESS) continue;
                if (error["error"].get(reason) != simdjson::SUCCESS) reason = "rejected";
                ++counts.rejected;
                counts.rejects.push_back(
                    {static_cast<uint32_t>(first + index), std::string(reason)});
            }
        }
        return {};
    }

    HttpClient client_;
    std::string url_;
};

}  // namespace

std::unique_ptr<FeatureWriter> make_store_feature_writer(OnlineStore& store, const Clock* clock) {
    return std::make_unique<StoreFeatureWriter>(store, clock);
}

Result<std::unique_ptr<FeatureWriter>> make_http_feature_writer(const std::string& url) {
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl endpoint, HttpUrl::parse(url));
    return std::unique_ptr<FeatureWriter>(new HttpFeatureWriter(std::move(endpoint), url));
}

Result<OpenedFeatureWriter> open_feature_writer(const Project& project,
                                                std::vector<FeatureView> views) {
    OpenedFeatureWriter opened;
    Result<std::unique_ptr<OnlineStore>> store = OnlineStore::open(
        OnlineStore::directory(project.data_dir), std::move(views), OnlineStoreOptions{}, nullptr);
    if (store.ok()) {
        opened.store = std::move(*store);
        opened.writer = make_store_feature_writer(*opened.store);
        return opened;
    }
    if (store.error().code() != ErrorCode::kUnavailable) return store.error();
    // A server holds the store: write through it.
    const std::string url = "http://" + project.listen_http;
    MILLRACE_ASSIGN_OR_RETURN(HttpUrl endpoint, HttpUrl::parse(url));
    HttpClient probe(endpoint, std::chrono::seconds(5));
    Result<HttpReply> health = probe.get("/healthz");
    if (!health.ok()) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("{}, and no millrace serve answers at {} ({})",
                                 store.error().message(), url, health.error().message()));
    }
    MILLRACE_ASSIGN_OR_RETURN(opened.writer, make_http_feature_writer(url));
    return opened;
}

}  // namespace millrace
