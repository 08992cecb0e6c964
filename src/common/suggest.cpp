#include "common/suggest.h"

#include <algorithm>
#include <cctype>

namespace millrace {

namespace {

char fold(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    if (a.size() < b.size()) std::swap(a, b);  // rows run over the shorter word
    // Three rows of the dynamic-programming table: i-2, i-1 and i.
    std::vector<std::size_t> before(b.size() + 1);
    std::vector<std::size_t> previous(b.size() + 1);
    std::vector<std::size_t> current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const bool same = fold(a[i - 1]) == fold(b[j - 1]);
            std::size_t best =
                std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
            if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
                fold(a[i - 2]) == fold(b[j - 1])) {
                best = std::min(best, before[j - 2] + 1);  // adjacent transposition
            }
            current[j] = best;
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[b.size()];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
    const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
    std::optional<std::size_t> best_index;
    std::size_t best_distance = limit + 1;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const std::string& candidate = candidates[i];
        // The distance is at least the difference in length: skipping those candidates also
        // keeps the quadratic comparison away from hostile, very long words.
        const std::size_t length_gap = candidate.size() > word.size()
                                           ? candidate.size() - word.size()
                                           : word.size() - candidate.size();
        if (length_gap >= best_distance) continue;
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best_distance = distance;
            best_index = i;
        }
    }
    if (!best_index) return std::nullopt;
    return candidates[*best_index];
}

std::string backticks(std::string_view text) { return "`" + std::string(text) + "`"; }

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    if (std::optional<std::string> near = closest_match(word, candidates)) {
        return "; did you mean " + backticks(*near) + "?";
    }
    return "";
}

}  // namespace millrace
