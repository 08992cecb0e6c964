#include "common/yaml_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <new>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/text_file.h"
#include "common/utf8.h"

namespace millrace {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// Thrown by TreeBuilder to stop yaml-cpp at the first problem; caught in YamlDocument::parse,
// so it never leaves this file.
struct BuildFailure {
    Error error;
};

// A position in the text: byte offset plus 0-based line and column, as in a yaml-cpp Mark.
struct Cursor {
    std::size_t pos = 0;
    int line = 0;
    int column = 0;
};

// What a finished node costs and how deep it goes, for the limits and for alias expansion.
struct NodeStats {
    std::size_t nodes = 1;
    std::size_t bytes = 0;
    int height = 0;  // 0 for null and scalars, 1 + the tallest child for collections
};

// Builds the ConfigNode tree from yaml-cpp's parse events. Collections under construction sit
// on a stack of frames, so nothing here recurses on the input's nesting.
class TreeBuilder final : public YAML::EventHandler {
public:
    TreeBuilder(std::string_view text, const std::string& file, const YamlLimits& limits)
        : text_(text), file_(file), limits_(limits) {}

    ConfigNode take_root() {
        if (root_) return std::move(*root_);
        return ConfigNode::null(SourceLocation{file_, 1, 1});
    }

    void OnDocumentStart(const YAML::Mark& mark) override {
        if (++documents_ > 1) {
            fail(ErrorCode::kParse, "a config file holds one YAML document; remove this second one",
                 mark);
        }
    }

    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        const Cursor at = skip_properties(mark);
        SourceLocation location = location_of(at);
        // An empty value (`key:` and nothing) gets the mark of the next token, often on another
        // line; pointing at its key is clearer.
        if (!is_null_literal(at.pos) && !frames_.empty() && frames_.back().pending_key) {
            location = frames_.back().pending_key->location;
        }
        if (expecting_key()) {
            fail_at(ErrorCode::kParse, "a map key must be a scalar, not null", location);
        }
        add(ConfigNode::null(std::move(location)), NodeStats{}, anchor);
    }

    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        const auto found = anchors_.find(anchor);
        if (found == anchors_.end()) {
            // The anchor was seen but its node is not finished: the alias is inside it.
            fail(ErrorCode::kParse,
                 "alias " + anchor_name(anchor) + " refers to a node that contains it", mark);
        }
        const Anchored& anchored = found->second;
        if (static_cast<int>(frames_.size()) + anchored.stats.height > limits_.max_depth) {
            fail(ErrorCode::kResourceExhausted,
                 "alias " + anchor_name(anchor) + " nests deeper than " +
                     std::to_string(limits_.max_depth) + " levels",
                 mark);
        }
        if (expecting_key() && !anchored.node.is_scalar()) {
            fail(ErrorCode::kParse, "a map key must be a scalar", mark);
        }
        // Counted where the alias is, so the limit error points at the alias that crossed it.
        remember_anchor_name(0);
        count(anchored.stats, location_of(Cursor{0, mark.line, mark.column}));
        attach(anchored.node, anchored.stats, 0);
    }

    void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  const std::string& value) override {
        const Cursor at = skip_properties(mark);
        const ScalarStyle style = style_at(at.pos);
        Cursor text_start = at;
        if (style == ScalarStyle::kSingleQuoted || style == ScalarStyle::kDoubleQuoted) {
            text_start.column += 1;
        } else if (style == ScalarStyle::kLiteral || style == ScalarStyle::kFolded) {
            text_start = block_content_start(at);
        }
        NodeStats stats;
        stats.bytes = value.size();
        add(ConfigNode::scalar(value, location_of(at), style, text_start.line + 1,
                               text_start.column + 1),
            stats, anchor);
    }

    void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value /*style*/) override {
        open(ConfigKind::kSequence, mark, anchor);
    }

    void OnSequenceEnd() override { close(); }

    void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value /*style*/) override {
        open(ConfigKind::kMap, mark, anchor);
    }

    void OnMapEnd() override { close(); }

    void OnAnchor(const YAML::Mark& /*mark*/, const std::string& name) override {
        pending_anchor_name_ = name;
    }

    [[noreturn]] void fail(ErrorCode code, std::string message, const YAML::Mark& mark) {
        fail_at(code, std::move(message), location_of(Cursor{0, mark.line, mark.column}));
    }

private:
    struct PendingKey {
        std::string text;
        SourceLocation location;
    };

    struct Frame {
        ConfigKind kind;
        SourceLocation location;
        YAML::anchor_t anchor = 0;
        std::vector<ConfigNode> items;
        std::vector<ConfigEntry> entries;
        std::unordered_set<std::string> keys;
        std::optional<PendingKey> pending_key;
        NodeStats stats;  // of the collection so far
    };

    struct Anchored {
        ConfigNode node;
        NodeStats stats;
    };

    [[noreturn]] void fail_at(ErrorCode code, std::string message, SourceLocation location) {
        throw BuildFailure{Error(code, std::move(message), std::move(location))};
    }

    SourceLocation location_of(const Cursor& at) const {
        if (at.line < 0) return SourceLocation{file_, 0, 0};
        return SourceLocation{file_, at.line + 1, at.column + 1};
    }

    std::string anchor_name(YAML::anchor_t anchor) const {
        const auto found = anchor_names_.find(anchor);
        return found == anchor_names_.end() ? std::string("*?") : "`*" + found->second + "`";
    }

    bool expecting_key() const {
        return !frames_.empty() && frames_.back().kind == ConfigKind::kMap &&
               !frames_.back().pending_key;
    }

    char char_at(std::size_t pos) const { return pos < text_.size() ? text_[pos] : '\0'; }

    void advance(Cursor& at) const {
        if (char_at(at.pos) == '\n') {
            ++at.line;
            at.column = 0;
        } else {
            ++at.column;
        }
        ++at.pos;
    }

    // yaml-cpp marks a node at its first property (`!tag`, `&anchor`); move to the content.
    Cursor skip_properties(const YAML::Mark& mark) const {
        Cursor at{static_cast<std::size_t>(mark.pos < 0 ? 0 : mark.pos), mark.line, mark.column};
        if (mark.pos < 0) return at;
        for (int property = 0; property < 2; ++property) {
            const char c = char_at(at.pos);
            if (c != '!' && c != '&') break;
            while (at.pos < text_.size() && !is_space(char_at(at.pos))) advance(at);
            skip_space_and_comments(at);
        }
        return at;
    }

    static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    void skip_space_and_comments(Cursor& at) const {
        while (at.pos < text_.size()) {
            const char c = char_at(at.pos);
            if (is_space(c)) {
                advance(at);
            } else if (c == '#') {
                while (at.pos < text_.size() && char_at(at.pos) != '\n') advance(at);
            } else {
                break;
            }
        }
    }

    // Whether a null was written (`~`, `null`) rather than left empty.
    bool is_null_literal(std::size_t pos) const {
        for (std::string_view literal : {"~", "null", "Null", "NULL"}) {
            if (text_.substr(std::min(pos, text_.size()), literal.size()) != literal) continue;
            const char next = char_at(pos + literal.size());
            const bool word_goes_on = (next >= 'a' && next <= 'z') ||
                                      (next >= 'A' && next <= 'Z') ||
                                      (next >= '0' && next <= '9') || next == '_' || next == '-';
            if (literal == "~" || !word_goes_on) return true;
        }
        return false;
    }

    ScalarStyle style_at(std::size_t pos) const {
        switch (char_at(pos)) {
            case '\'':
                return ScalarStyle::kSingleQuoted;
            case '"':
                return ScalarStyle::kDoubleQuoted;
            case '|':
                return ScalarStyle::kLiteral;
            case '>':
                return ScalarStyle::kFolded;
            default:
                return ScalarStyle::kPlain;
        }
    }

    // Where line 1 of a block scalar's text is: the line after the header (`|-2 # note`),
    // at the block's indentation, which is that of its first non-empty line.
    Cursor block_content_start(Cursor at) const {
        while (at.pos < text_.size() && char_at(at.pos) != '\n') advance(at);
        advance(at);
        Cursor first_line = at;
        while (at.pos < text_.size()) {
            while (char_at(at.pos) == ' ') advance(at);
            const char c = char_at(at.pos);
            if (c != '\n' && c != '\r') break;
            while (at.pos < text_.size() && char_at(at.pos) != '\n') advance(at);
            advance(at);
        }
        first_line.column = at.column;
        return first_line;
    }

    // Adds a node (or a copy of one) to the document's budget; `location` is where it is.
    void count(const NodeStats& stats, const SourceLocation& location) {
        nodes_ += stats.nodes;
        bytes_ += stats.bytes;
        if (nodes_ > limits_.max_nodes) {
            fail_at(ErrorCode::kResourceExhausted,
                    "the document has more than " + std::to_string(limits_.max_nodes) +
                        " nodes (aliases expanded)",
                    location);
        }
        if (bytes_ > limits_.max_expanded_bytes) {
            fail_at(ErrorCode::kResourceExhausted,
                    "the document has more than " + std::to_string(limits_.max_expanded_bytes) +
                        " bytes of text (aliases expanded)",
                    location);
        }
    }

    void open(ConfigKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
        const Cursor at = skip_properties(mark);
        if (expecting_key()) {
            fail_at(ErrorCode::kParse, "a map key must be a scalar", location_of(at));
        }
        if (static_cast<int>(frames_.size()) >= limits_.max_depth) {
            fail_at(ErrorCode::kResourceExhausted,
                    "nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
                    location_of(at));
        }
        remember_anchor_name(anchor);
        Frame frame;
        frame.kind = kind;
        frame.location = location_of(at);
        frame.anchor = anchor;
        count(NodeStats{}, frame.location);
        frames_.push_back(std::move(frame));
    }

    void close() {
        Frame frame = std::move(frames_.back());
        frames_.pop_back();
        ConfigNode node = frame.kind == ConfigKind::kMap
                              ? ConfigNode::map(std::move(frame.entries), frame.location)
                              : ConfigNode::sequence(std::move(frame.items), frame.location);
        frame.stats.height += 1;
        // The collection and its children were counted as they arrived; only attach it.
        attach(std::move(node), frame.stats, frame.anchor);
    }

    void remember_anchor_name(YAML::anchor_t anchor) {
        if (anchor != 0 && pending_anchor_name_) {
            anchor_names_[anchor] = std::move(*pending_anchor_name_);
        }
        pending_anchor_name_.reset();
    }

    // A new leaf (null or scalar): counts it, then attaches it.
    void add(ConfigNode node, const NodeStats& stats, YAML::anchor_t anchor) {
        remember_anchor_name(anchor);
        count(stats, node.location());
        attach(std::move(node), stats, anchor);
    }

    void attach(ConfigNode node, const NodeStats& stats, YAML::anchor_t anchor) {
        if (anchor != 0) {
            // The copy kept for aliases costs as much as the node: count it, so that nested
            // anchors cannot multiply memory behind the limits' back.
            count(stats, node.location());
            anchors_.insert_or_assign(anchor, Anchored{node, stats});
        }
        if (frames_.empty()) {
            root_ = std::move(node);
            return;
        }
        Frame& parent = frames_.back();
        parent.stats.nodes += stats.nodes;
        parent.stats.bytes += stats.bytes;
        parent.stats.height = std::max(parent.stats.height, stats.height);
        if (parent.kind == ConfigKind::kSequence) {
            parent.items.push_back(std::move(node));
            return;
        }
        if (!parent.pending_key) {
            // Only scalars get here as keys: collections and nulls were refused on arrival.
            if (!parent.keys.insert(node.scalar()).second) {
                fail_at(ErrorCode::kParse, "duplicate key `" + node.scalar() + "`",
                        node.location());
            }
            parent.pending_key = PendingKey{node.scalar(), node.location()};
            return;
        }
        parent.entries.push_back(ConfigEntry{std::move(parent.pending_key->text),
                                             std::move(parent.pending_key->location),
                                             std::move(node)});
        parent.pending_key.reset();
    }

    std::string_view text_;
    const std::string& file_;
    const YamlLimits& limits_;
    std::vector<Frame> frames_;
    std::unordered_map<YAML::anchor_t, Anchored> anchors_;
    std::unordered_map<YAML::anchor_t, std::string> anchor_names_;
    std::optional<std::string> pending_anchor_name_;
    std::optional<ConfigNode> root_;
    int documents_ = 0;
    std::size_t nodes_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace

Result<YamlDocument> YamlDocument::parse(std::string_view text, std::string file,
                                         const YamlLimits& limits) {
    if (text.size() > limits.max_bytes) {
        return Error(ErrorCode::kResourceExhausted,
                     "the file is " + std::to_string(text.size()) + " bytes; the limit is " +
                         std::to_string(limits.max_bytes),
                     SourceLocation{file, 0, 0});
    }
    // yaml-cpp skips a byte order mark without counting it in its marks; drop it here so that
    // marks are offsets into `text`.
    if (text.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
        text.remove_prefix(kByteOrderMark.size());
    }
    // NUL bytes would make yaml-cpp guess UTF-16 or UTF-32, and invalid UTF-8 would be replaced
    // by it, shifting every mark after it. Config files are UTF-8 text: refuse anything else.
    if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
        return Error(ErrorCode::kParse, "the file contains a NUL byte; expected UTF-8 text",
                     location_at(text, nul, file));
    }
    if (const std::size_t bad = find_invalid_utf8(text); bad != std::string_view::npos) {
        return Error(ErrorCode::kParse, "the file is not valid UTF-8",
                     location_at(text, bad, file));
    }

    TreeBuilder builder(text, file, limits);
    try {
        std::istringstream input{std::string(text)};
        YAML::Parser parser(input);
        while (parser.HandleNextDocument(builder)) {
        }
    } catch (BuildFailure& failure) {
        return std::move(failure.error);
    } catch (const YAML::Exception& error) {
        SourceLocation location{file, 0, 0};
        if (!error.mark.is_null() && error.mark.line >= 0) {
            location.line = error.mark.line + 1;
            location.column = error.mark.column + 1;
        }
        return Error(ErrorCode::kParse, "invalid YAML: " + error.msg, std::move(location));
    } catch (const std::bad_alloc&) {
        return Error(ErrorCode::kResourceExhausted, "out of memory while parsing YAML",
                     SourceLocation{file, 0, 0});
    } catch (const std::exception& error) {
        return Error(ErrorCode::kParse, std::string("invalid YAML: ") + error.what(),
                     SourceLocation{file, 0, 0});
    }
    ConfigNode root = builder.take_root();
    return YamlDocument(std::move(file), std::move(root));
}

Result<YamlDocument> YamlDocument::load(const std::string& path, const YamlLimits& limits) {
    MILLRACE_ASSIGN_OR_RETURN(std::string text, read_text_file(path, limits.max_bytes));
    return parse(text, path, limits);
}

}  // namespace millrace
