#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// The browser, operating system and device family of a User-Agent string, by the ua-parser
/// project's regexes (Debian's `uap-core`, /usr/share/uap-core/regexes.yaml) run with RE2.
///
/// Each of the three parser lists is tried in file order and the first regex that matches
/// decides, as the ua-parser specification says (a literal prefilter, RE2's FilteredRE2, skips
/// the regexes that cannot match). A family is its `*_replacement` with
/// `$1`..`$9` replaced by the match's groups (trimmed), else the first group; "Other" when no
/// regex matches.
///
/// Loading compiles about 1,100 regexes, so the program loads one parser, on first use, and
/// shares it (shared()); after loading it is immutable and parse() may run on any thread.
class UserAgentParser {
public:
    struct Families {
        std::string browser;
        std::string os;
        std::string device;
    };

    ~UserAgentParser();
    UserAgentParser(const UserAgentParser&) = delete;
    UserAgentParser& operator=(const UserAgentParser&) = delete;

    /// Reads and compiles a regexes.yaml (ua-parser's format). A regex RE2 cannot compile is
    /// skipped and counted (skipped()); a file that cannot be read or parsed is an error.
    static Result<std::unique_ptr<UserAgentParser>> load(const std::string& path);
    /// The parser of kDefaultRegexes, loaded once for the whole program (thread-safe).
    static Result<const UserAgentParser*> shared();

    Families parse(std::string_view user_agent) const;
    /// Regexes of the file that RE2 could not compile (and that are so never tried).
    std::size_t skipped() const;

    static constexpr const char* kDefaultRegexes = "/usr/share/uap-core/regexes.yaml";

private:
    UserAgentParser();
    struct Lists;
    std::unique_ptr<Lists> lists_;
};

}  // namespace millrace
