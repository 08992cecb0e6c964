// NDJSON → Batch decoding of 1M order events, against simdjson's own on-demand iteration over
// the same bytes with no Batch building (the ceiling). Goal: ratio ≥ 0.5.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "datagen/order_generator.h"
#include "formats/json_decoder.h"

namespace millrace {
namespace {

constexpr uint64_t kEvents = 1'000'000;

const std::string& events() {
    static const std::string text = [] {
        std::string out;
        OrderGenerator generator;
        generator.append_ndjson(out, kEvents);
        return out;
    }();
    return text;
}

class DiscardSink final : public DecodeSink {
public:
    Status on_batch(Batch batch) override {
        rows += batch.num_rows();
        return {};
    }
    void on_error(RowError) override { ++errors; }
    uint64_t rows = 0;
    uint64_t errors = 0;
};

void report(benchmark::State& state, uint64_t rows) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * events().size()));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
}

// Visits every field of an order with its typed getter; returns a checksum so nothing is elided.
double visit(simdjson::ondemand::object& object) {
    double checksum = 0;
    for (auto field : object) {
        std::string_view key = field.unescaped_key();
        auto value = field.value();
        if (key == "amount") {
            checksum += double(value);
        } else if (key == "items") {
            checksum += double(int64_t(value));
        } else {
            checksum += double(std::string_view(value).size());
        }
    }
    return checksum;
}

// The ceiling: simdjson's fastest NDJSON path (iterate_many), visiting every field of every
// record with its typed getter, and nothing else.
void BM_SimdjsonOnDemandCeiling(benchmark::State& state) {
    simdjson::padded_string padded(events());
    simdjson::ondemand::parser parser;
    uint64_t rows = 0;
    for (auto _ : state) {
        rows = 0;
        double checksum = 0;
        simdjson::ondemand::document_stream stream;
        if (parser.iterate_many(padded).get(stream)) state.SkipWithError("iterate_many");
        for (auto document : stream) {
            simdjson::ondemand::object object;
            if (document.get_object().get(object)) continue;
            checksum += visit(object);
            ++rows;
        }
        benchmark::DoNotOptimize(checksum);
    }
    report(state, rows);
}

// Informative: the same visit with one iterate() per line, as a per-record decoder must do
// without iterate_many.
void BM_SimdjsonOnDemandPerLine(benchmark::State& state) {
    simdjson::padded_string padded(events());
    simdjson::ondemand::parser parser;
    uint64_t rows = 0;
    for (auto _ : state) {
        rows = 0;
        double checksum = 0;
        const char* data = padded.data();
        std::size_t pos = 0;
        while (pos < padded.size()) {
            const char* nl =
                static_cast<const char*>(memchr(data + pos, '\n', padded.size() - pos));
            std::size_t end = nl ? nl - data : padded.size();
            simdjson::padded_string_view view(data + pos, end - pos, padded.size() + 64 - pos);
            simdjson::ondemand::document document;
            simdjson::ondemand::object object;
            pos = end + 1;
            if (parser.iterate(view).get(document) || document.get_object().get(object)) continue;
            checksum += visit(object);
            ++rows;
        }
        benchmark::DoNotOptimize(checksum);
    }
    report(state, rows);
}

// state.range(0) == 1: flat records take FlatJsonScanner's single pass (the default);
// 0: every record goes through simdjson (the decoder's full path), for comparison.
void BM_JsonDecoderNdjson(benchmark::State& state) {
    JsonOptions options;
    options.flat_fast_path = state.range(0) == 1;
    JsonDecoder decoder(OrderGenerator::schema(), options);
    uint64_t rows = 0;
    for (auto _ : state) {
        DiscardSink sink;
        if (!decoder.decode(events(), sink).ok()) state.SkipWithError("decode failed");
        rows = sink.rows;
        if (sink.errors != 0) state.SkipWithError("unexpected row errors");
    }
    report(state, rows);
}

BENCHMARK(BM_SimdjsonOnDemandCeiling)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_SimdjsonOnDemandPerLine)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_JsonDecoderNdjson)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace
}  // namespace millrace

BENCHMARK_MAIN();
