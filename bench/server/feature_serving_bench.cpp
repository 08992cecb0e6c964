// The feature serving hot path in process, without sockets: Router dispatch → FeatureHandler →
// OnlineStore lookup (cache hit) → JSON. What a GET costs the server before Beast's parsing
// and writing; `bench/run.sh` records it next to the wrk figures of the whole server.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "common/clock.h"
#include "common/metrics_registry.h"
#include "common/yaml_document.h"
#include "online/online_store.h"
#include "project/project.h"
#include "server/feature_handler.h"

namespace millrace {
namespace {

constexpr int64_t kNow = 1'795'392'000'000'000;
constexpr int kUsers = 10'000;

struct Server {
    /// `cache_rows` 0: every lookup reads RocksDB (one MultiGet per request).
    explicit Server(std::size_t cache_rows) {
        dir = (std::filesystem::temp_directory_path() /
               ("millrace-serving-bench-" + std::to_string(::getpid()) + "-" +
                std::to_string(cache_rows)))
                  .string();
        std::filesystem::remove_all(dir);
        FeatureView view;
        view.name = "user_features";
        view.entities = {{"user_id", DataType::kInt64}};
        view.features = {{"clicks_30d", DataType::kInt64, Value::int64(0), ""},
                         {"avg_viewed_price", DataType::kFloat64, Value::float64(0), ""},
                         {"product_heat", DataType::kInt64, Value(), ""},
                         {"segment", DataType::kString, Value(), ""}};
        view.lake_table = "user_features";
        OnlineStoreOptions options;
        options.cache_rows = cache_rows;
        store = std::move(OnlineStore::open(dir, {view}, options, &metrics)).value();
        const FeatureView& stored = *store->find_view("user_features");
        for (int user = 0; user < kUsers; ++user) {
            (void)store->upsert_row(stored, {Value::int64(user)},
                                    FeatureRow{kNow,
                                               kNow,
                                               {Value::int64(user % 97), Value::float64(user * 0.5),
                                                Value::int64(user % 13), Value::string("seg")}});
        }
        auto document = YamlDocument::parse(
            "name: user\npath: /feature/user\nview: user_features\nkey: { uid: user_id }\n"
            "features:\n  clicks_30d: clicks_30d\n"
            "  avg_price: { feature: avg_viewed_price, type: double, default: 0.0 }\n"
            "  heat: { feature: product_heat, type: double }\n"
            "rate_limit: { rps: 1000000000, burst: 1000000000 }\n",
            "routes/user.yaml");
        RouteSpec spec{"user", "routes/user.yaml", document->root().location(), document->root()};
        std::vector<Error> errors;
        std::vector<FeatureRoute> routes;
        routes.push_back(*parse_feature_route(spec, store->views(), errors));
        router = std::make_unique<Router>(metrics);
        handler = std::make_unique<FeatureHandler>(*store, ServingConfig{}, std::move(routes),
                                                   clock, metrics, nullptr);
        handler->add_routes(*router);
    }
    ~Server() {
        handler.reset();
        store.reset();
        std::filesystem::remove_all(dir);
    }

    std::string dir;
    MetricsRegistry metrics;
    ManualClock clock{kNow};
    std::unique_ptr<OnlineStore> store;
    std::unique_ptr<Router> router;
    std::unique_ptr<FeatureHandler> handler;
};

Server& server() {
    static Server instance(std::size_t{1} << 20);
    return instance;
}

Server& uncached_server() {
    static Server instance(0);
    return instance;
}

void run(benchmark::State& state, const char* path, const char* param) {
    Server& s = server();
    std::size_t bytes = 0;
    int user = 0;
    for (auto _ : state) {
        HttpRequest request;
        request.path = path;
        request.query.emplace_back(param, std::to_string(user));
        user = (user + 7919) % kUsers;
        s.router->dispatch(request, [&](HttpResponse response) {
            bytes += response.body.size();
            benchmark::DoNotOptimize(response);
        });
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_GetView(benchmark::State& state) { run(state, "/v1/features/user_features", "user_id"); }
void BM_YamlRoute(benchmark::State& state) { run(state, "/feature/user", "uid"); }

// POST /v1/features/{view}/batch with 100 keys (the batch figure): all cache hits, or
// (Misses) no cache, every key read from RocksDB.
void batch100(benchmark::State& state, Server& s) {
    std::size_t bytes = 0;
    int user = 0;
    for (auto _ : state) {
        HttpRequest request;
        request.method = HttpMethod::kPost;
        request.path = "/v1/features/user_features/batch";
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = "{\"keys\":[";
        for (int i = 0; i < 100; ++i) {
            if (i > 0) request.body += ',';
            request.body += std::to_string(user);
            user = (user + 7919) % kUsers;
        }
        request.body += "]}";
        s.router->dispatch(request, [&](HttpResponse response) {
            bytes += response.body.size();
            benchmark::DoNotOptimize(response);
        });
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_Batch100(benchmark::State& state) { batch100(state, server()); }
void BM_Batch100Misses(benchmark::State& state) { batch100(state, uncached_server()); }

BENCHMARK(BM_GetView)->ThreadRange(1, 2)->UseRealTime();
BENCHMARK(BM_Batch100)->UseRealTime();
BENCHMARK(BM_Batch100Misses)->UseRealTime();
BENCHMARK(BM_YamlRoute)->ThreadRange(1, 2)->UseRealTime();

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
