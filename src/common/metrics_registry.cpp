#include "common/metrics_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <variant>

#include "common/check.h"

namespace millrace {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        MILLRACE_CHECK(std::isfinite(bounds_[i]), "histogram bounds must be finite");
        MILLRACE_CHECK(i == 0 || bounds_[i - 1] < bounds_[i],
                       "histogram bounds must be strictly increasing");
    }
}

void Histogram::observe(double value) {
    // The first bound >= value; NaN compares false with everything and belongs to +Inf.
    const std::size_t index =
        std::isnan(value)
            ? bounds_.size()
            : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                       bounds_.begin());
    buckets_[index].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

uint64_t Histogram::bucket_count(std::size_t index) const {
    MILLRACE_CHECK(index <= bounds_.size(), "histogram bucket index out of range");
    return buckets_[index].load(std::memory_order_relaxed);
}

uint64_t Histogram::count() const {
    uint64_t total = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        total += buckets_[i].load(std::memory_order_relaxed);
    }
    return total;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
    MILLRACE_CHECK(start > 0 && factor > 1 && count >= 1, "bad exponential_buckets arguments");
    std::vector<double> bounds;
    bounds.reserve(static_cast<std::size_t>(count));
    double bound = start;
    for (int i = 0; i < count; ++i) {
        bounds.push_back(bound);
        bound *= factor;
    }
    return bounds;
}

std::string_view metric_kind_name(MetricKind kind) {
    switch (kind) {
        case MetricKind::kCounter:
            return "counter";
        case MetricKind::kGauge:
            return "gauge";
        case MetricKind::kHistogram:
            return "histogram";
    }
    return "unknown";
}

struct MetricsRegistry::Metric {
    std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>>
        value;
};

struct MetricsRegistry::Family {
    MetricKind kind;
    std::string help;
    std::vector<std::string> label_names;  // in the order of the first registration
    std::vector<double> bounds;            // histograms only
    // Label values in label_names order -> metric. std::map keeps rendering deterministic.
    std::map<std::vector<std::string>, Metric> metrics;
};

namespace {

bool is_valid_name(std::string_view name, bool allow_colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                            (allow_colon && c == ':');
        const bool digit = c >= '0' && c <= '9';
        if (!letter && !(digit && i > 0)) return false;
    }
    return true;
}

// Prometheus renders floats the way Go's strconv does for 'g' with shortest precision; fmt's
// shortest round-trip form agrees on everything we emit ("0.005", "1", "1e+06").
void append_double(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", value);
    }
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
    for (char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && escape_quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// `{a="x",b="y"}`, with `extra` (e.g. le="0.5") last; nothing when there are no labels.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra) {
    if (names.empty() && extra.empty()) return;
    out += '{';
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += ',';
        out += names[i];
        out += "=\"";
        append_escaped(out, values[i], /*escape_quote=*/true);
        out += '"';
    }
    if (!extra.empty()) {
        if (!names.empty()) out += ',';
        out += extra;
    }
    out += '}';
}

}  // namespace

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Metric& MetricsRegistry::find_or_create(MetricKind kind, std::string_view name,
                                                         std::string_view help,
                                                         const MetricLabels& labels,
                                                         std::vector<double> bounds) {
    MILLRACE_CHECK(is_valid_name(name, /*allow_colon=*/true),
                   "invalid metric name `" + std::string(name) + "`");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const std::string& label = labels[i].name;
        MILLRACE_CHECK(is_valid_name(label, /*allow_colon=*/false) && label.rfind("__", 0) != 0,
                       "invalid label name `" + label + "` for metric `" + std::string(name) + "`");
        MILLRACE_CHECK(!(kind == MetricKind::kHistogram && label == "le"),
                       "`le` is reserved in histogram `" + std::string(name) + "`");
        for (std::size_t j = 0; j < i; ++j) {
            MILLRACE_CHECK(labels[j].name != label,
                           "label `" + label + "` given twice for `" + std::string(name) + "`");
        }
    }

    std::lock_guard<std::mutex> lock(mutex_);
    auto found = families_.find(name);
    if (found == families_.end()) {
        auto family = std::make_unique<Family>();
        family->kind = kind;
        family->help = std::string(help);
        for (const MetricLabel& label : labels) family->label_names.push_back(label.name);
        family->bounds = bounds;
        found = families_.emplace(std::string(name), std::move(family)).first;
    }
    Family& family = *found->second;
    MILLRACE_CHECK(family.kind == kind, "metric `" + std::string(name) + "` is a " +
                                            std::string(metric_kind_name(family.kind)) +
                                            ", not a " + std::string(metric_kind_name(kind)));
    MILLRACE_CHECK(family.label_names.size() == labels.size(),
                   "metric `" + std::string(name) + "` used with other label names");
    MILLRACE_CHECK(kind != MetricKind::kHistogram || family.bounds == bounds,
                   "histogram `" + std::string(name) + "` used with other bucket bounds");

    // Values in the family's label order.
    std::vector<std::string> values(family.label_names.size());
    for (const MetricLabel& label : labels) {
        auto position = std::find(family.label_names.begin(), family.label_names.end(), label.name);
        MILLRACE_CHECK(position != family.label_names.end(),
                       "metric `" + std::string(name) + "` has no label `" + label.name + "`");
        values[static_cast<std::size_t>(position - family.label_names.begin())] = label.value;
    }
    auto [it, inserted] = family.metrics.try_emplace(std::move(values));
    if (inserted) {
        switch (kind) {
            case MetricKind::kCounter:
                it->second.value = std::make_unique<Counter>();
                break;
            case MetricKind::kGauge:
                it->second.value = std::make_unique<Gauge>();
                break;
            case MetricKind::kHistogram:
                it->second.value = std::make_unique<Histogram>(std::move(bounds));
                break;
        }
    }
    return it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  const MetricLabels& labels) {
    return *std::get<std::unique_ptr<Counter>>(
        find_or_create(MetricKind::kCounter, name, help, labels, {}).value);
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help,
                              const MetricLabels& labels) {
    return *std::get<std::unique_ptr<Gauge>>(
        find_or_create(MetricKind::kGauge, name, help, labels, {}).value);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      const MetricLabels& labels, std::vector<double> bounds) {
    return *std::get<std::unique_ptr<Histogram>>(
        find_or_create(MetricKind::kHistogram, name, help, labels, std::move(bounds)).value);
}

std::string MetricsRegistry::render_prometheus() const {
    std::string out;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, family] : families_) {
        out += "# HELP ";
        out += name;
        out += ' ';
        append_escaped(out, family->help, /*escape_quote=*/false);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += metric_kind_name(family->kind);
        out += '\n';
        for (const auto& [values, metric] : family->metrics) {
            if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&metric.value)) {
                out += name;
                append_labels(out, family->label_names, values, {});
                fmt::format_to(std::back_inserter(out), " {}\n", (*counter)->value());
            } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&metric.value)) {
                out += name;
                append_labels(out, family->label_names, values, {});
                out += ' ';
                append_double(out, (*gauge)->value());
                out += '\n';
            } else {
                const Histogram& histogram = *std::get<std::unique_ptr<Histogram>>(metric.value);
                uint64_t cumulative = 0;
                std::string le;
                for (std::size_t i = 0; i <= histogram.bounds().size(); ++i) {
                    cumulative += histogram.bucket_count(i);
                    le = "le=\"";
                    if (i < histogram.bounds().size()) {
                        append_double(le, histogram.bounds()[i]);
                    } else {
                        le += "+Inf";
                    }
                    le += '"';
                    out += name;
                    out += "_bucket";
                    append_labels(out, family->label_names, values, le);
                    fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
                }
                out += name;
                out += "_sum";
                append_labels(out, family->label_names, values, {});
                out += ' ';
                append_double(out, histogram.sum());
                out += '\n';
                out += name;
                out += "_count";
                append_labels(out, family->label_names, values, {});
                // The +Inf bucket, so that _count always equals it even while threads observe.
                fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
            }
        }
    }
    return out;
}

}  // namespace millrace
