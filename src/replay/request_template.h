#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// Text with placeholders drawn fresh for every request (a path, a query, a body):
///
///   {rand:LO:HI}       a uniform random integer in [LO, HI]
///   {keys:N:LO:HI}     a JSON array of N uniform random integers in [LO, HI]: [17,4,...]
///
/// Any other text, braces included (JSON bodies), is copied as is. Parsed once; expand() appends
/// without parsing again. Value type; expand() is const and thread-safe with one Rng per thread.
class RequestTemplate {
public:
    using Rng = std::mt19937_64;

    /// kParse naming the placeholder when one is malformed (LO > HI, N = 0, not numbers).
    static Result<RequestTemplate> parse(std::string_view text);

    void expand(Rng& rng, std::string& out) const;
    std::string expand(Rng& rng) const;
    /// True when there are no placeholders (every expansion is the same text).
    bool constant() const { return parts_.size() <= 1 && (parts_.empty() || parts_[0].literal); }

private:
    struct Part {
        bool literal = true;
        std::string text;    // literal
        uint32_t count = 0;  // 0: {rand}, else {keys:count}
        int64_t low = 0;
        int64_t high = 0;
    };
    std::vector<Part> parts_;
};

}  // namespace millrace
