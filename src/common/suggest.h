#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace millrace {

/// Levenshtein distance between `a` and `b` (insertions, deletions, substitutions), where
/// swapping two adjacent characters also counts as one edit (the "optimal string alignment"
/// variant: `veiws` is one edit from `views`, as a typist would expect). ASCII letters compare
/// case-insensitively.
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to a misspelled `word`, for "did you mean `sources`?" hints; nullopt
/// when none is close enough, i.e. within max(1, word.size() / 3) edits. Ties go to the earliest
/// candidate. A candidate equal to `word` except for case is a match (distance 0).
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

/// "`name`": how messages quote a name the user wrote or may write.
std::string backticks(std::string_view text);

/// "; did you mean `near`?" when closest_match() finds a candidate near `word`, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace millrace
