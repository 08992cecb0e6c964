#include "connectors/generator_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "formats/json_decoder.h"

namespace millrace {

namespace {

OrderGeneratorOptions generator_options(const SourceSpec& spec, const Clock& clock) {
    OrderGeneratorOptions options;
    options.seed = spec.generator_seed;
    options.bad_fraction = spec.generator_bad_fraction;
    options.start_micros = clock.now_micros();
    options.mean_step_micros =
        std::max<int64_t>(1, static_cast<int64_t>(1e6 / std::max(spec.generator_rate, 1e-6)));
    return options;
}

}  // namespace

GeneratorSource::GeneratorSource(const SourceSpec& spec, const Clock& clock)
    : name_(spec.name),
      schema_(OrderGenerator::schema()),
      clock_(clock),
      rate_(spec.generator_rate),
      limit_(spec.generator_limit),
      started_micros_(clock.now_micros()),
      generator_(generator_options(spec, clock)) {}

Result<std::unique_ptr<GeneratorSource>> GeneratorSource::open(const SourceSpec& spec,
                                                               const Clock& clock) {
    if (spec.generator_kind != "orders") {
        return Error(ErrorCode::kConfig,
                     fmt::format("source `{}`: unknown generator kind `{}` (kinds: orders)",
                                 spec.name, spec.generator_kind),
                     spec.location);
    }
    return std::unique_ptr<GeneratorSource>(new GeneratorSource(spec, clock));
}

Result<PollResult> GeneratorSource::poll(DecodeSink& sink, std::size_t max_records,
                                         Listener* listener) {
    const uint64_t generated = generator_.generated();
    if (limit_ && generated >= *limit_) return PollResult::kEnd;
    const double elapsed = static_cast<double>(clock_.now_micros() - started_micros_) / 1e6;
    auto due = static_cast<uint64_t>(std::floor(std::max(elapsed, 0.0) * rate_));
    if (limit_) due = std::min(due, *limit_);
    if (due <= generated) return PollResult::kIdle;
    const uint64_t count =
        std::min<uint64_t>(due - generated, std::max<std::size_t>(max_records, 1));
    if (listener && generated == 0) listener->on_unit_start(fmt::format("generator {}", name_));
    text_.clear();
    generator_.append_ndjson(text_, count);
    bytes_ += text_.size();
    JsonDecoder decoder(schema_);
    std::size_t start = 0;
    uint64_t index = generated;
    while (start < text_.size()) {
        std::size_t end = text_.find('\n', start);
        if (end == std::string::npos) end = text_.size();
        MILLRACE_TRY(decoder.decode_record(std::string_view(text_).substr(start, end - start),
                                           index++, 0, sink));
        start = end + 1;
    }
    MILLRACE_TRY(decoder.flush(sink));
    return PollResult::kData;
}

SourcePosition GeneratorSource::position() const {
    return SourcePosition{0, generator_.generated(), 0};
}

Status GeneratorSource::seek(const SourcePosition& position) {
    if (position == this->position()) return {};
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("source `{}`: a generator cannot seek to {}", name_, position.to_string()));
}

}  // namespace millrace
