#include "common/suggest.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(Suggest, EditDistance) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("abc", ""), 3u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("sorces", "sources"), 1u);
    EXPECT_EQ(edit_distance("Sources", "sOURCES"), 0u);
    EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
    EXPECT_EQ(edit_distance("veiws", "views"), 1u);
    EXPECT_EQ(edit_distance("ab", "ba"), 1u);
    EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not full Damerau
}

TEST(Suggest, FindsCloseCandidate) {
    const std::vector<std::string> keys = {"name", "mode", "sources", "views", "checks", "sinks"};
    EXPECT_EQ(closest_match("sorces", keys), "sources");
    EXPECT_EQ(closest_match("SINKS", keys), "sinks");
    EXPECT_EQ(closest_match("veiws", keys), "views");  // one transposition
}

TEST(Suggest, RefusesDistantCandidates) {
    const std::vector<std::string> keys = {"sources", "sinks"};
    EXPECT_EQ(closest_match("banana", keys), std::nullopt);
    EXPECT_EQ(closest_match("x", {}), std::nullopt);
    EXPECT_EQ(closest_match("", keys), std::nullopt);
}

TEST(Suggest, ShortWordsAllowOneEdit) {
    EXPECT_EQ(closest_match("ke", {"key", "topic"}), "key");
    EXPECT_EQ(closest_match("k", {"key"}), std::nullopt);
}

TEST(Suggest, TiesGoToTheFirstCandidate) {
    EXPECT_EQ(closest_match("cat", {"bat", "hat"}), "bat");
    EXPECT_EQ(closest_match("cat", {"hat", "cat"}), "cat");  // exact beats earlier near miss
}

TEST(Suggest, LongHostileWordIsCheap) {
    const std::string word(1'000'000, 'a');
    EXPECT_EQ(closest_match(word, {"amount", "sources"}), std::nullopt);
}

TEST(Suggest, DidYouMeanQuotesTheNearestCandidate) {
    EXPECT_EQ(backticks("sources"), "`sources`");
    EXPECT_EQ(did_you_mean("sorces", {"sinks", "sources"}), "; did you mean `sources`?");
    EXPECT_EQ(did_you_mean("zzzzzz", {"sinks", "sources"}), "");
    EXPECT_EQ(did_you_mean("sources", {}), "");
}

}  // namespace
}  // namespace millrace
