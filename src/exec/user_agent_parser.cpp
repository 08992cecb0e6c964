#include "exec/user_agent_parser.h"

#include <fmt/format.h>
#include <re2/filtered_re2.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <vector>

namespace millrace {

namespace {

/// One parser list of regexes.yaml (user_agent_parsers, os_parsers or device_parsers).
///
/// Trying ~600 regexes one by one costs about a millisecond per string, and an RE2::Set of them
/// as much (its DFA explodes on these patterns). So the list is a FilteredRE2: each regex is
/// reduced to literal atoms that any match must contain, one RE2::Set of those literals finds
/// the atoms a string holds, and only the regexes those atoms allow are tried, in file order
/// (tens of microseconds per string).
class ParserList {
public:
    /// `replacement_key`: the field whose value (with $n substituted) is the family.
    ParserList(const YAML::Node& entries, const char* replacement_key, std::size_t& skipped)
        : filter_(kMinAtomLength) {
        for (const YAML::Node& entry : entries) {
            std::string pattern = entry["regex"].as<std::string>("");
            if (const YAML::Node flag = entry["regex_flag"]; flag && flag.as<std::string>() == "i")
                pattern = "(?i)" + pattern;
            RE2::Options options;
            options.set_log_errors(false);
            int id = -1;
            if (filter_.Add(pattern, options, &id) != RE2::NoError) {
                ++skipped;
                continue;
            }
            Entry out;
            if (const YAML::Node replacement = entry[replacement_key]; replacement) {
                out.replacement = replacement.as<std::string>("");
                out.has_replacement = true;
            }
            entries_.push_back(std::move(out));
        }
        std::vector<std::string> atoms;
        filter_.Compile(&atoms);
        RE2::Options set_options;
        set_options.set_max_mem(int64_t{64} << 20);
        set_options.set_log_errors(false);
        atoms_ = std::make_unique<RE2::Set>(set_options, RE2::UNANCHORED);
        for (const std::string& atom : atoms) atoms_->Add(RE2::QuoteMeta(atom), nullptr);
        atoms_ok_ = atoms_->Compile();
    }

    std::string family(std::string_view text) const {
        if (entries_.empty()) return "Other";
        // The atoms are lower case: they are looked for in the lower-cased text.
        std::string lower(text);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::vector<int> atoms;
        int first = -1;
        RE2::Set::ErrorInfo info{};
        if (atoms_ok_ && (atoms_->Match(lower, &atoms, &info) || info.kind == RE2::Set::kNoError)) {
            first = filter_.FirstMatch(text, atoms);
        } else {
            // The atom set could not run: every regex, in order.
            for (std::size_t i = 0; i < entries_.size() && first < 0; ++i) {
                if (RE2::PartialMatch(text, filter_.GetRE2(static_cast<int>(i))))
                    first = static_cast<int>(i);
            }
        }
        if (first < 0) return "Other";
        const Entry* hit = &entries_[static_cast<std::size_t>(first)];
        const RE2& regex = filter_.GetRE2(first);
        const int groups = std::min(regex.NumberOfCapturingGroups(), 9);
        std::vector<re2::StringPiece> captured(static_cast<std::size_t>(groups) + 1);
        if (!regex.Match(text, 0, text.size(), RE2::UNANCHORED, captured.data(), groups + 1)) {
            return "Other";
        }
        std::string out;
        if (hit->has_replacement) {
            const std::string& r = hit->replacement;
            for (std::size_t i = 0; i < r.size(); ++i) {
                if (r[i] == '$' && i + 1 < r.size() && r[i + 1] >= '1' && r[i + 1] <= '9') {
                    const int group = r[i + 1] - '0';
                    if (group <= groups) out.append(captured[group].data(), captured[group].size());
                    ++i;
                } else {
                    out.push_back(r[i]);
                }
            }
        } else if (groups >= 1) {
            out.assign(captured[1].data(), captured[1].size());
        }
        const auto space = [](char c) { return c == ' ' || c == '\t'; };
        while (!out.empty() && space(out.back())) out.pop_back();
        std::size_t lead = 0;
        while (lead < out.size() && space(out[lead])) ++lead;
        out.erase(0, lead);
        return out.empty() ? "Other" : out;
    }

private:
    static constexpr int kMinAtomLength = 3;
    struct Entry {
        std::string replacement;
        bool has_replacement = false;
    };
    re2::FilteredRE2 filter_;
    std::vector<Entry> entries_;  // by the filter's regex id
    std::unique_ptr<RE2::Set> atoms_;
    bool atoms_ok_ = false;
};

}  // namespace

struct UserAgentParser::Lists {
    std::size_t skipped = 0;
    std::unique_ptr<ParserList> browsers, systems, devices;
};

UserAgentParser::UserAgentParser() : lists_(std::make_unique<Lists>()) {}
UserAgentParser::~UserAgentParser() = default;

Result<std::unique_ptr<UserAgentParser>> UserAgentParser::load(const std::string& path) {
    std::unique_ptr<UserAgentParser> parser(new UserAgentParser());
    try {
        const YAML::Node root = YAML::LoadFile(path);
        Lists& lists = *parser->lists_;
        lists.browsers = std::make_unique<ParserList>(root["user_agent_parsers"],
                                                      "family_replacement", lists.skipped);
        lists.systems =
            std::make_unique<ParserList>(root["os_parsers"], "os_replacement", lists.skipped);
        lists.devices = std::make_unique<ParserList>(root["device_parsers"], "device_replacement",
                                                     lists.skipped);
    } catch (const std::exception& e) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("cannot load the User-Agent regexes {} (Debian package "
                                 "uap-core): {}",
                                 path, e.what()));
    }
    return parser;
}

Result<const UserAgentParser*> UserAgentParser::shared() {
    // Loaded once and never changed after: an immutable table, like a compiled-in one.
    static std::once_flag once;
    static std::unique_ptr<UserAgentParser> parser;
    static std::optional<Error> failure;
    std::call_once(once, [] {
        auto loaded = load(kDefaultRegexes);
        if (loaded.ok()) {
            parser = std::move(loaded).value();
        } else {
            failure = std::move(loaded).error();
        }
    });
    if (failure) return *failure;
    return parser.get();
}

UserAgentParser::Families UserAgentParser::parse(std::string_view user_agent) const {
    Families out;
    out.browser = lists_->browsers->family(user_agent);
    out.os = lists_->systems->family(user_agent);
    out.device = lists_->devices->family(user_agent);
    return out;
}

std::size_t UserAgentParser::skipped() const { return lists_->skipped; }

}  // namespace millrace
