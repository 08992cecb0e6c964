#include "connectors/generator_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/clock.h"
#include "formats/csv_decoder.h"
#include "formats/json_decoder.h"

namespace millrace {

namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;

int64_t mean_step_micros(const SourceSpec& spec) {
    return std::max<int64_t>(1, static_cast<int64_t>(1e6 / std::max(spec.generator_rate, 1e-6)));
}

}  // namespace

GeneratorSource::GeneratorSource(const SourceSpec& spec, const Clock& clock)
    : spec_(spec),
      name_(spec.name),
      clock_(clock),
      rate_(spec.generator_rate),
      paced_(spec.generator_paced),
      limit_(spec.generator_limit),
      origin_micros_(spec.generator_start_micros.value_or(clock.now_micros())),
      paced_from_micros_(clock.now_micros()) {
    start_generators(origin_micros_);
}

void GeneratorSource::start_generators(int64_t origin_micros) {
    origin_micros_ = origin_micros;
    orders_.reset();
    nexmark_.reset();
    transactions_.reset();
    activity_.reset();
    activity_days_ = 0;
    if (spec_.generator_kind == "nexmark") {
        NexmarkGeneratorOptions options;
        options.seed = spec_.generator_seed;
        options.events_per_second = spec_.generator_rate;
        nexmark_ = std::make_unique<NexmarkGenerator>(
            parse_nexmark_relation(spec_.generator_events).value_or(NexmarkRelation::kBid),
            options);
        schema_ = nexmark_->schema();
    } else if (spec_.generator_kind == "activity") {
        ActivityGeneratorOptions options;
        options.seed = spec_.generator_seed;
        options.bad_fraction = spec_.generator_bad_fraction;
        options.start_day = static_cast<int32_t>(origin_micros / kMicrosPerDay -
                                                 (origin_micros % kMicrosPerDay < 0));
        activity_ = std::make_unique<ActivityGenerator>(options);
        activity_day_rows_ =
            std::max<uint64_t>(1, static_cast<uint64_t>(spec_.generator_rate * 86'400.0));
        schema_ = ActivityGenerator::schema();
    } else if (spec_.generator_kind == "transactions") {
        TransactionGeneratorOptions options;
        options.seed = spec_.generator_seed;
        options.start_micros = origin_micros;
        options.mean_step_micros = mean_step_micros(spec_);
        transactions_ = std::make_unique<TransactionGenerator>(options);
        schema_ = TransactionGenerator::schema();
    } else {
        OrderGeneratorOptions options;
        options.seed = spec_.generator_seed;
        options.bad_fraction = spec_.generator_bad_fraction;
        options.start_micros = origin_micros;
        options.mean_step_micros = mean_step_micros(spec_);
        orders_ = std::make_unique<OrderGenerator>(options);
        schema_ = OrderGenerator::schema();
    }
}

Result<std::shared_ptr<const Schema>> GeneratorSource::schema_of(const SourceSpec& spec) {
    if (spec.generator_kind == "orders") return OrderGenerator::schema();
    if (spec.generator_kind == "transactions") return TransactionGenerator::schema();
    if (spec.generator_kind == "activity") return ActivityGenerator::schema();
    if (spec.generator_kind == "nexmark") {
        if (auto relation = parse_nexmark_relation(spec.generator_events))
            return NexmarkGenerator::schema(*relation);
        return Error(ErrorCode::kConfig,
                     fmt::format("source `{}`: a nexmark generator needs `events: person`, "
                                 "`auction` or `bid` (one relation per source), not `{}`",
                                 spec.name, spec.generator_events),
                     spec.location);
    }
    return Error(ErrorCode::kConfig,
                 fmt::format("source `{}`: unknown generator kind `{}` (kinds: orders, "
                             "activity, transactions, nexmark)",
                             spec.name, spec.generator_kind),
                 spec.location);
}

Result<std::unique_ptr<GeneratorSource>> GeneratorSource::open(const SourceSpec& spec,
                                                               const Clock& clock) {
    MILLRACE_TRY(schema_of(spec));
    return std::unique_ptr<GeneratorSource>(new GeneratorSource(spec, clock));
}

uint64_t GeneratorSource::generated() const {
    if (nexmark_) return nexmark_->position();
    if (transactions_) return transactions_->generated();
    if (activity_) return activity_->generated();
    return orders_->generated();
}

Result<PollResult> GeneratorSource::poll(DecodeSink& sink, std::size_t max_records,
                                         Listener* listener) {
    const uint64_t generated = this->generated();
    if (limit_ && generated >= *limit_) return PollResult::kEnd;
    uint64_t due = std::numeric_limits<uint64_t>::max();
    if (paced_) {
        const double elapsed = static_cast<double>(clock_.now_micros() - paced_from_micros_) / 1e6;
        due = paced_records_ + static_cast<uint64_t>(std::floor(std::max(elapsed, 0.0) * rate_));
    }
    if (limit_) due = std::min(due, *limit_);
    if (due <= generated) return PollResult::kIdle;
    const uint64_t count =
        std::min<uint64_t>(due - generated, std::max<std::size_t>(max_records, 1));
    if (listener && !announced_) listener->on_unit_start(fmt::format("generator {}", name_));
    announced_ = true;
    if (nexmark_ || transactions_) {
        // Straight into a Batch: no text to encode and decode again.
        BatchBuilder builder(schema_, static_cast<std::size_t>(count));
        if (nexmark_) {
            nexmark_->append(builder, count);
        } else {
            transactions_->append(builder, count);
        }
        Batch batch = builder.finish();
        bytes_ += batch.memory_bytes();
        if (batch.num_rows() > 0) MILLRACE_TRY(sink.on_batch(std::move(batch)));
        return PollResult::kData;
    }
    text_.clear();
    if (activity_) {
        text_ = ActivityGenerator::kCsvHeader;
        append_activity(text_, count);
        bytes_ += text_.size();
        MILLRACE_TRY(CsvDecoder(schema_, CsvOptions{}).decode(text_, sink));
        return PollResult::kData;
    }
    orders_->append_ndjson(text_, count);
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

void GeneratorSource::append_activity(std::string& out, uint64_t count) {
    uint64_t left = count;
    while (left > 0) {
        if (activity_days_ == 0) activity_->begin_day(activity_days_++, activity_day_rows_);
        const uint64_t appended = activity_->append_csv(out, left);
        left -= appended;
        if (appended == 0) activity_->begin_day(activity_days_++, activity_day_rows_);
    }
}

void GeneratorSource::skip(uint64_t count) {
    if (nexmark_) {
        nexmark_->seek(nexmark_->position() + count);
        return;
    }
    // The others draw from one random stream record after record: make them and drop them, a
    // chunk at a time so that memory stays bounded.
    constexpr uint64_t kChunk = 16384;
    std::string scratch;
    while (count > 0) {
        const uint64_t chunk = std::min(count, kChunk);
        if (transactions_) {
            BatchBuilder builder(schema_, static_cast<std::size_t>(chunk));
            transactions_->append(builder, chunk);
        } else if (activity_) {
            scratch.clear();
            append_activity(scratch, chunk);
        } else {
            scratch.clear();
            orders_->append_ndjson(scratch, chunk);
        }
        count -= chunk;
    }
}

SourcePosition GeneratorSource::position() const {
    SourcePosition position{0, generated(), 0};
    position.origin_micros = origin_micros_;
    return position;
}

Status GeneratorSource::seek(const SourcePosition& position) {
    if (position == this->position()) return {};
    if (position.unit != 0 || position.line != 0 || (limit_ && position.offset > *limit_)) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} is not a position of this generator (one "
                                 "unit, 0; offsets up to its limit, {})",
                                 name_, position.to_string(),
                                 limit_ ? fmt::format("{}", *limit_) : std::string("none")));
    }
    if (!position.origin_micros && !nexmark_) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("source `{}`: {} has no event-time origin, so a `{}` generator "
                                 "cannot make the same records again from it",
                                 name_, position.to_string(), spec_.generator_kind));
    }
    const int64_t origin = position.origin_micros.value_or(origin_micros_);
    if (origin != origin_micros_ || position.offset < generated()) start_generators(origin);
    skip(position.offset - generated());
    paced_from_micros_ = clock_.now_micros();
    paced_records_ = position.offset;
    return {};
}

}  // namespace millrace
