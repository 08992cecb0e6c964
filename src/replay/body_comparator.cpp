#include "replay/body_comparator.h"

#include <simdjson.h>

namespace millrace {

namespace {

/// A path being matched: how many segments of which ignored path are matched so far.
struct PathState {
    const std::vector<std::string>* segments;
    std::size_t matched;
};

}  // namespace

struct BodyComparator::Impl {
    std::vector<std::string> bare_keys;           // match at any depth
    std::vector<std::vector<std::string>> paths;  // from the top
    simdjson::dom::parser expected_parser;
    simdjson::dom::parser got_parser;

    // True when `key` of an object reached through `states` is ignored; fills `next` with the
    // paths that go on below it.
    bool ignored(std::string_view key, const std::vector<PathState>& states,
                 std::vector<PathState>& next) const {
        next.clear();
        for (const std::string& bare : bare_keys) {
            if (bare == key) return true;
        }
        for (const PathState& state : states) {
            if ((*state.segments)[state.matched] != key) continue;
            if (state.matched + 1 == state.segments->size()) return true;
            next.push_back({state.segments, state.matched + 1});
        }
        return false;
    }

    bool same(simdjson::dom::element a, simdjson::dom::element b,
              const std::vector<PathState>& states) const {
        using Type = simdjson::dom::element_type;
        const Type ta = a.type();
        const Type tb = b.type();
        const bool a_number = ta == Type::INT64 || ta == Type::UINT64 || ta == Type::DOUBLE;
        const bool b_number = tb == Type::INT64 || tb == Type::UINT64 || tb == Type::DOUBLE;
        if (a_number && b_number) {
            if (ta == tb && ta == Type::INT64) return int64_t(a) == int64_t(b);
            if (ta == tb && ta == Type::UINT64) return uint64_t(a) == uint64_t(b);
            return double(a) == double(b);
        }
        if (ta != tb) return false;
        switch (ta) {
            case Type::STRING:
                return std::string_view(a) == std::string_view(b);
            case Type::BOOL:
                return bool(a) == bool(b);
            case Type::NULL_VALUE:
                return true;
            case Type::ARRAY: {
                simdjson::dom::array x = a;
                simdjson::dom::array y = b;
                if (x.size() != y.size()) return false;
                auto it = y.begin();
                for (simdjson::dom::element item : x) {
                    if (!same(item, *it, states)) return false;
                    ++it;
                }
                return true;
            }
            case Type::OBJECT: {
                simdjson::dom::object x = a;
                simdjson::dom::object y = b;
                std::vector<PathState> next;
                std::size_t compared = 0;
                for (auto field : x) {
                    if (ignored(field.key, states, next)) continue;
                    simdjson::dom::element other;
                    if (y.at_key(field.key).get(other) != simdjson::SUCCESS) return false;
                    if (!same(field.value, other, next)) return false;
                    ++compared;
                }
                std::size_t kept = 0;  // y's fields that are not ignored
                for (auto field : y) {
                    if (!ignored(field.key, states, next)) ++kept;
                }
                return kept == compared;
            }
            default:
                return false;
        }
    }
};

Result<BodyComparator> BodyComparator::create(const std::vector<std::string>& ignored_fields) {
    auto impl = std::make_unique<Impl>();
    for (const std::string& field : ignored_fields) {
        std::vector<std::string> segments;
        std::size_t start = 0;
        while (true) {
            const std::size_t dot = field.find('.', start);
            segments.push_back(field.substr(start, dot - start));
            if (segments.back().empty()) {
                return Error(ErrorCode::kInvalidArgument,
                             "--ignore-field `" + field +
                                 "`: expected a key or a dotted path such as "
                                 "metadata.event_timestamp");
            }
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        if (segments.size() == 1) {
            impl->bare_keys.push_back(std::move(segments.front()));
        } else {
            impl->paths.push_back(std::move(segments));
        }
    }
    return BodyComparator(std::move(impl));
}

BodyComparator::BodyComparator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BodyComparator::BodyComparator(BodyComparator&&) noexcept = default;
BodyComparator& BodyComparator::operator=(BodyComparator&&) noexcept = default;
BodyComparator::~BodyComparator() = default;

bool BodyComparator::ignores_fields() const {
    return !impl_->bare_keys.empty() || !impl_->paths.empty();
}

bool BodyComparator::equal(std::string_view expected, std::string_view got) {
    if (expected == got) return true;
    if (!ignores_fields()) return false;
    simdjson::dom::element a;
    simdjson::dom::element b;
    if (impl_->expected_parser.parse(expected.data(), expected.size()).get(a) !=
            simdjson::SUCCESS ||
        impl_->got_parser.parse(got.data(), got.size()).get(b) != simdjson::SUCCESS) {
        return false;
    }
    std::vector<PathState> top;
    top.reserve(impl_->paths.size());
    for (const std::vector<std::string>& path : impl_->paths) top.push_back({&path, 0});
    return impl_->same(a, b, top);
}

}  // namespace millrace
