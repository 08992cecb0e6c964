#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// Compares a replayed response body with the recorded one (`millrace replay --compare`),
/// ignoring the fields a refresh legitimately changes (`--ignore-field`).
///
/// Without ignored fields the bodies must be equal byte for byte. With them, both bodies are
/// parsed as JSON and compared as values: objects by their keys (in any order), arrays element
/// by element, numbers by value, and an ignored field is skipped wherever it matches, on either
/// side (present in one body, absent in the other, or different: all equal). A body that is
/// not JSON is compared byte for byte.
///
/// A field is named by
///   - a bare key (`event_timestamp`): that key in any object at any depth;
///   - a dotted path from the top (`metadata.event_timestamp`, `results.event_timestamps`):
///     object keys in order; arrays on the way are looked through, so the path applies to
///     every element (`results.statuses` is the `statuses` of each object of `results`).
///
/// Threads: compare() may run on one thread at a time (it keeps a parser); construct one per
/// thread otherwise.
class BodyComparator {
public:
    /// kInvalidArgument for an empty name or an empty path segment (`a..b`, `.a`).
    static Result<BodyComparator> create(const std::vector<std::string>& ignored_fields);

    BodyComparator(BodyComparator&&) noexcept;
    BodyComparator& operator=(BodyComparator&&) noexcept;
    ~BodyComparator();

    bool ignores_fields() const;
    bool equal(std::string_view expected, std::string_view got);

private:
    struct Impl;
    explicit BodyComparator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
