#include "sql/parser.h"

#include <fmt/format.h>
#include <pg_query.h>
#include <simdjson.h>

#include <optional>
#include <string>

namespace millrace::sql {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using Node = simdjson::simdjson_result<element>;

/// Walks libpg_query's JSON parse tree (PostgreSQL's raw parse nodes) into our AST. Node shapes
/// are documented in PostgreSQL's src/include/nodes/parsenodes.h; each node is an object with
/// one key naming its type.
class TreeConverter {
    struct DepthGuard {
        int& depth;
        explicit DepthGuard(int& d) : depth(d) { ++depth; }
        ~DepthGuard() { --depth; }
    };

public:
    explicit TreeConverter(std::string_view sql) : sql_(sql) {}

    Error error_at(int location, std::string message) const {
        return Error(ErrorCode::kParse, std::move(message), location_in_text(sql_, location));
    }

    /// The identifier-like word at byte `location` of the SQL, lower case.
    std::string word_at(int location) const {
        std::string word;
        for (std::size_t i = static_cast<std::size_t>(std::max(location, 0)); i < sql_.size();
             ++i) {
            const auto c = static_cast<unsigned char>(sql_[i]);
            if (!std::isalnum(c) && c != '_') break;
            word += static_cast<char>(std::tolower(c));
        }
        return word;
    }

    int64_t integer_at(int location) const {
        if (location < 0 || location >= static_cast<int>(sql_.size())) return 0;
        std::size_t i = static_cast<std::size_t>(location);
        bool negative = false;
        while (i < sql_.size() && (sql_[i] == '-' || sql_[i] == '+' ||
                                   std::isspace(static_cast<unsigned char>(sql_[i])))) {
            if (sql_[i] == '-') negative = !negative;
            ++i;
        }
        int64_t v = 0;
        while (i < sql_.size() && std::isdigit(static_cast<unsigned char>(sql_[i])))
            v = v * 10 + (sql_[i++] - '0');
        return negative ? -v : v;
    }

    static int location_of(object node) {
        int64_t location = -1;
        if (node["location"].get_int64().get(location)) return -1;
        return static_cast<int>(location);
    }

    static std::string string_value(Node node) {
        object obj;
        if (node.get_object().get(obj)) return "";
        object inner;
        if (obj["String"].get_object().get(inner)) return "";
        std::string_view value;
        if (inner["sval"].get_string().get(value)) return "";
        return std::string(value);
    }

    static std::vector<std::string> string_list(Node node) {
        std::vector<std::string> out;
        array items;
        if (node.get_array().get(items)) return out;
        for (element item : items) {
            object obj;
            if (!item.get_object().get(obj) && !obj["A_Star"].error()) {
                out.push_back("*");
            } else {
                out.push_back(string_value(Node(element(item))));
            }
        }
        return out;
    }

    /// The single key and its object value of a node `{"Type": {...}}`.
    static bool node_type(Node node, std::string_view& type, object& body) {
        object obj;
        if (node.get_object().get(obj)) return false;
        for (auto field : obj) {
            type = field.key;
            return !field.value.get_object().get(body);
        }
        return false;
    }

    Result<AstExprPtr> expr(element node) { return expr(Node(std::move(node))); }
    Result<FromItem> from_item(element node) { return from_item(Node(std::move(node))); }
    static std::vector<std::string> string_list(element node) {
        return string_list(Node(std::move(node)));
    }
    static bool node_type(element node, std::string_view& type, object& body) {
        return node_type(Node(std::move(node)), type, body);
    }

    Result<AstExprPtr> expr(Node node) {
        // Every later stage (binding, planning, evaluation) recurses over the tree: bound its
        // depth here so hostile SQL cannot exhaust the stack.
        DepthGuard guard(depth_);
        if (depth_ > kMaxDepth)
            return error_at(-1,
                            fmt::format("expression nested more than {} levels deep", kMaxDepth));
        std::string_view type;
        object body;
        if (!node_type(node, type, body)) return error_at(-1, "malformed expression");
        auto out = std::make_unique<AstExpr>();
        out->location = location_of(body);
        if (type == "ColumnRef") {
            out->names = string_list(body["fields"]);
            if (!out->names.empty() && out->names.back() == "*") {
                out->kind = AstKind::kStar;
                out->names.pop_back();
            } else {
                out->kind = AstKind::kColumn;
            }
            return out;
        }
        if (type == "A_Const") return constant(body, std::move(out));
        if (type == "TypeCast") {
            std::vector<std::string> names = string_list(body["typeName"]["names"]);
            std::string type_name = names.empty() ? "" : names.back();
            int64_t location = -1;
            if (!body["typeName"]["location"].get_int64().get(location) && out->location < 0) {
                out->location = static_cast<int>(location);
            }
            if (type_name == "interval") {
                MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(body["arg"]));
                if (arg->kind != AstKind::kLiteral || arg->literal.is_null() ||
                    arg->literal.type() != DataType::kString) {
                    return error_at(arg->location,
                                    "INTERVAL needs a string literal, e.g. INTERVAL '1 minute'");
                }
                out->kind = AstKind::kInterval;
                out->text = arg->literal.as_string();
                if (out->location < 0) out->location = arg->location;
                return out;
            }
            out->kind = AstKind::kCast;
            out->text = type_name;
            array modifiers;
            if (!body["typeName"]["arrayBounds"].get_array().get(modifiers)) {
                return error_at(out->location, "array types are not supported");
            }
            MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(body["arg"]));
            if (out->location < 0) out->location = arg->location;
            out->args.push_back(std::move(arg));
            return out;
        }
        if (type == "FuncCall") {
            out->kind = AstKind::kFunction;
            std::vector<std::string> names = string_list(body["funcname"]);
            out->name = names.empty() ? "" : names.back();
            for (char& c : out->name)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            bool flag = false;
            if (!body["agg_star"].get_bool().get(flag)) out->star = flag;
            if (!body["agg_distinct"].get_bool().get(flag)) out->distinct = flag;
            if (!body["over"].error())
                return error_at(
                    out->location,
                    "window functions (OVER) are not supported; use tumble/hop/session in FROM");
            if (!body["agg_filter"].error())
                return error_at(
                    out->location,
                    "aggregate FILTER clauses are not supported; use CASE inside the aggregate");
            if (!body["agg_order"].error())
                return error_at(out->location, "ORDER BY inside an aggregate is not supported");
            MILLRACE_TRY(expr_list(body["args"], out->args));
            return out;
        }
        if (type == "A_Expr") return a_expr(body, std::move(out));
        if (type == "BoolExpr") {
            std::string_view op;
            if (body["boolop"].get_string().get(op)) {
            }
            out->kind = op == "AND_EXPR"  ? AstKind::kAnd
                        : op == "OR_EXPR" ? AstKind::kOr
                                          : AstKind::kNot;
            MILLRACE_TRY(expr_list(body["args"], out->args));
            if (out->location < 0 && !out->args.empty()) out->location = out->args[0]->location;
            return out;
        }
        if (type == "NullTest") {
            out->kind = AstKind::kIsNull;
            std::string_view test;
            if (body["nulltesttype"].get_string().get(test)) {
            }
            out->negated = test == "IS_NOT_NULL";
            MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(body["arg"]));
            if (out->location < 0) out->location = arg->location;
            out->args.push_back(std::move(arg));
            return out;
        }
        if (type == "BooleanTest") {
            out->kind = AstKind::kBoolTest;
            std::string_view test;
            if (body["booltesttype"].get_string().get(test)) {
            }
            out->name = std::string(test);
            MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(body["arg"]));
            if (out->location < 0) out->location = arg->location;
            out->args.push_back(std::move(arg));
            return out;
        }
        if (type == "CaseExpr") {
            out->kind = AstKind::kCase;
            element operand;
            if (!body["arg"].get(operand)) {
                MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(operand));
                out->args.push_back(std::move(arg));
            } else {
                out->args.push_back(nullptr);
            }
            array whens;
            if (!body["args"].get_array().get(whens)) {
                for (element when : whens) {
                    std::string_view when_type;
                    object when_body;
                    if (!node_type(when, when_type, when_body) || when_type != "CaseWhen") {
                        return error_at(out->location, "malformed CASE");
                    }
                    MILLRACE_ASSIGN_OR_RETURN(AstExprPtr condition, expr(when_body["expr"]));
                    MILLRACE_ASSIGN_OR_RETURN(AstExprPtr result, expr(when_body["result"]));
                    out->args.push_back(std::move(condition));
                    out->args.push_back(std::move(result));
                }
            }
            element otherwise;
            if (!body["defresult"].get(otherwise)) {
                MILLRACE_ASSIGN_OR_RETURN(AstExprPtr arg, expr(otherwise));
                out->args.push_back(std::move(arg));
            } else {
                out->args.push_back(nullptr);
            }
            return out;
        }
        if (type == "CoalesceExpr") {
            out->kind = AstKind::kCoalesce;
            MILLRACE_TRY(expr_list(body["args"], out->args));
            return out;
        }
        if (type == "MinMaxExpr") {
            std::string_view op;
            if (body["op"].get_string().get(op)) {
            }
            out->kind = AstKind::kFunction;
            out->name = op == "IS_GREATEST" ? "greatest" : "least";
            MILLRACE_TRY(expr_list(body["args"], out->args));
            return out;
        }
        if (type == "SQLValueFunction") {
            std::string_view op;
            if (body["op"].get_string().get(op)) {
            }
            out->kind = AstKind::kFunction;
            if (op == "SVFOP_CURRENT_DATE") {
                out->name = "current_date";
            } else if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP") {
                out->name = "now";
            } else {
                // USER, CURRENT_USER, CURRENT_TIME, ...: the binder says why each is not
                // available (and, for `user`, how to name a column of that name).
                out->kind = AstKind::kSqlKeyword;
                std::string_view keyword = op;
                if (keyword.starts_with("SVFOP_")) keyword.remove_prefix(6);
                const bool precision = keyword.ends_with("_N");
                if (precision) keyword.remove_suffix(2);
                out->name = std::string(keyword);
                for (char& c : out->name)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (precision) out->name += "(n)";
            }
            return out;
        }
        if (type == "SubLink")
            return error_at(
                out->location,
                "subqueries in expressions are not supported yet; use a JOIN or a view");
        return error_at(out->location, fmt::format("unsupported expression ({})", type));
    }

    Status expr_list(Node node, std::vector<AstExprPtr>& out) {
        array items;
        if (node.get_array().get(items)) return {};
        for (element item : items) {
            MILLRACE_ASSIGN_OR_RETURN(AstExprPtr e, expr(item));
            out.push_back(std::move(e));
        }
        return {};
    }

    Result<AstExprPtr> constant(object body, AstExprPtr out) {
        out->kind = AstKind::kLiteral;
        bool is_null = false;
        if (!body["isnull"].get_bool().get(is_null) && is_null) {
            out->literal = Value::null();
            return out;
        }
        object value;
        if (!body["ival"].get_object().get(value)) {
            int64_t v = 0;
            if (value["ival"].get_int64().get(v)) {
                // libpg_query's JSON leaves out zero and (a quirk) negative integers: read the
                // literal back from the SQL text at its location.
                v = integer_at(out->location);
            }
            out->literal = Value::int32(static_cast<int32_t>(v));
            return out;
        }
        if (!body["fval"].get_object().get(value)) {
            std::string_view text;
            if (value["fval"].get_string().get(text)) {
            }
            out->text = std::string(text);
            // Integers too large for int32 arrive as "float" text: make them int64 when they fit.
            bool integral = !text.empty();
            for (std::size_t i = 0; i < text.size(); ++i) {
                char c = text[i];
                if (!(std::isdigit(static_cast<unsigned char>(c)) || (i == 0 && c == '-')))
                    integral = false;
            }
            if (integral) {
                errno = 0;
                char* end = nullptr;
                long long v = std::strtoll(out->text.c_str(), &end, 10);
                if (errno == 0) {
                    out->literal = Value::int64(v);
                    return out;
                }
            }
            out->literal = Value::float64(std::strtod(out->text.c_str(), nullptr));
            return out;
        }
        if (!body["sval"].get_object().get(value)) {
            std::string_view text;
            if (value["sval"].get_string().get(text)) {
            }
            out->literal = Value::string(std::string(text));
            return out;
        }
        if (!body["boolval"].get_object().get(value)) {
            bool v = false;
            if (value["boolval"].get_bool().get(v)) {
            }
            out->literal = Value::boolean(v);
            return out;
        }
        if (!body["bsval"].get_object().get(value)) {
            return error_at(out->location, "bit-string literals are not supported");
        }
        return error_at(out->location, "unsupported constant");
    }

    /// `x LIKE p ESCAPE e` arrives as LIKE like_escape(p, e): with constant p and e, rewrite p to
    /// the backslash escapes our LIKE kernel understands.
    Result<AstExprPtr> like_pattern(AstExprPtr pattern) {
        if (pattern->kind != AstKind::kFunction || pattern->name != "like_escape") return pattern;
        auto is_text = [](const AstExprPtr& e) {
            return e->kind == AstKind::kLiteral && !e->literal.is_null() &&
                   e->literal.type() == DataType::kString;
        };
        if (pattern->args.size() != 2 || !is_text(pattern->args[0]) || !is_text(pattern->args[1])) {
            return error_at(pattern->location,
                            "LIKE ... ESCAPE needs a constant pattern and escape character");
        }
        const std::string& text = pattern->args[0]->literal.as_string();
        const std::string& escape = pattern->args[1]->literal.as_string();
        if (escape.size() > 1)
            return error_at(pattern->args[1]->location,
                            "the ESCAPE string must be one character (or empty)");
        std::string rewritten;
        for (std::size_t i = 0; i < text.size(); ++i) {
            char c = text[i];
            if (!escape.empty() && c == escape[0]) {
                if (i + 1 < text.size()) {
                    rewritten.push_back('\\');
                    rewritten.push_back(text[++i]);
                }
            } else if (c == '\\') {
                rewritten += "\\\\";  // a literal backslash when it is not the escape character
            } else {
                rewritten.push_back(c);
            }
        }
        AstExprPtr out = std::move(pattern->args[0]);
        out->literal = Value::string(std::move(rewritten));
        return out;
    }

    Result<AstExprPtr> a_expr(object body, AstExprPtr out) {
        std::string_view kind;
        if (body["kind"].get_string().get(kind)) {
        }
        std::vector<std::string> names = string_list(body["name"]);
        std::string op = names.empty() ? "" : names.back();
        element lexpr, rexpr;
        bool has_left = !body["lexpr"].get(lexpr);
        bool has_right = !body["rexpr"].get(rexpr);
        AstExprPtr left, right;
        if (has_left) {
            MILLRACE_ASSIGN_OR_RETURN(left, expr(lexpr));
        }
        if (kind == "AEXPR_IN") {
            out->kind = AstKind::kIn;
            out->negated = op == "<>";
            out->args.push_back(std::move(left));
            array items;
            if (!has_right || rexpr["List"]["items"].get_array().get(items)) {
                return error_at(out->location,
                                "IN needs a list of values; subqueries are not supported");
            }
            for (element item : items) {
                MILLRACE_ASSIGN_OR_RETURN(AstExprPtr e, expr(item));
                out->args.push_back(std::move(e));
            }
            return out;
        }
        if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
            out->kind = AstKind::kBetween;
            out->negated = kind == "AEXPR_NOT_BETWEEN";
            out->args.push_back(std::move(left));
            array items;
            if (!has_right || rexpr["List"]["items"].get_array().get(items)) {
                return error_at(out->location, "malformed BETWEEN");
            }
            for (element item : items) {
                MILLRACE_ASSIGN_OR_RETURN(AstExprPtr e, expr(item));
                out->args.push_back(std::move(e));
            }
            return out;
        }
        if (kind == "AEXPR_BETWEEN_SYM" || kind == "AEXPR_NOT_BETWEEN_SYM") {
            return error_at(out->location, "BETWEEN SYMMETRIC is not supported");
        }
        if (has_right) {
            MILLRACE_ASSIGN_OR_RETURN(right, expr(rexpr));
        }
        if (kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
            MILLRACE_ASSIGN_OR_RETURN(right, like_pattern(std::move(right)));
            out->kind = AstKind::kLike;
            out->name = kind == "AEXPR_LIKE" ? "like" : "ilike";
            out->negated = op.starts_with("!");
            out->args.push_back(std::move(left));
            out->args.push_back(std::move(right));
            return out;
        }
        if (kind == "AEXPR_NULLIF") {
            out->kind = AstKind::kNullIf;
            out->args.push_back(std::move(left));
            out->args.push_back(std::move(right));
            return out;
        }
        if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
            out->kind = AstKind::kDistinctFrom;
            out->negated = kind == "AEXPR_NOT_DISTINCT";
            out->args.push_back(std::move(left));
            out->args.push_back(std::move(right));
            return out;
        }
        if (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL") {
            return error_at(out->location, "ANY/ALL are not supported; use IN");
        }
        if (kind == "AEXPR_SIMILAR")
            return error_at(out->location, "SIMILAR TO is not supported; use LIKE");
        if (kind != "AEXPR_OP")
            return error_at(out->location, fmt::format("unsupported operator kind {}", kind));
        if (!left && !right)
            return error_at(out->location, fmt::format("operator {} needs operands", op));
        if (op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*") {
            if (!left || !right)
                return error_at(out->location, fmt::format("operator {} needs two operands", op));
            out->kind = AstKind::kLike;
            out->name = op.find('*') != std::string::npos ? "ilike" : "like";
            out->negated = op.starts_with("!");
            out->args.push_back(std::move(left));
            out->args.push_back(std::move(right));
            return out;
        }
        out->kind = AstKind::kOperator;
        out->name = op;
        if (left) out->args.push_back(std::move(left));
        if (right) out->args.push_back(std::move(right));
        return out;
    }

    Result<FromItem> from_item(Node node) {
        DepthGuard guard(depth_);
        if (depth_ > kMaxDepth)
            return error_at(-1, fmt::format("query nested more than {} levels deep", kMaxDepth));
        std::string_view type;
        object body;
        if (!node_type(node, type, body)) return error_at(-1, "malformed FROM item");
        FromItem item;
        item.location = location_of(body);
        std::string_view alias;
        if (!body["alias"]["aliasname"].get_string().get(alias)) item.alias = std::string(alias);
        if (type == "RangeVar") {
            item.kind = FromItem::Kind::kTable;
            std::string_view name;
            if (body["relname"].get_string().get(name)) {
            }
            std::string_view schema;
            if (!body["schemaname"].get_string().get(schema)) {
                return error_at(item.location,
                                fmt::format("qualified table names ({}.{}) are not supported; name "
                                            "a source or view of the pipeline",
                                            schema, name));
            }
            item.name = std::string(name);
            return item;
        }
        if (type == "JoinExpr") {
            item.kind = FromItem::Kind::kJoin;
            std::string_view join_type;
            if (body["jointype"].get_string().get(join_type)) {
            }
            if (join_type == "JOIN_INNER") {
                item.join_type = FromItem::JoinType::kInner;
            } else if (join_type == "JOIN_LEFT") {
                item.join_type = FromItem::JoinType::kLeft;
            } else if (join_type == "JOIN_RIGHT") {
                item.join_type = FromItem::JoinType::kRight;
            } else if (join_type == "JOIN_FULL") {
                item.join_type = FromItem::JoinType::kFull;
            } else {
                return error_at(item.location, fmt::format("unsupported join type {}", join_type));
            }
            bool natural = false;
            if (!body["isNatural"].get_bool().get(natural) && natural) {
                return error_at(item.location, "NATURAL joins are not supported; use ON or USING");
            }
            MILLRACE_ASSIGN_OR_RETURN(FromItem left, from_item(body["larg"]));
            MILLRACE_ASSIGN_OR_RETURN(FromItem right, from_item(body["rarg"]));
            item.left = std::make_unique<FromItem>(std::move(left));
            item.right = std::make_unique<FromItem>(std::move(right));
            if (item.location < 0) item.location = item.right->location;
            element quals;
            if (!body["quals"].get(quals)) {
                MILLRACE_ASSIGN_OR_RETURN(item.condition, expr(quals));
            }
            element using_clause;
            if (!body["usingClause"].get(using_clause))
                item.using_columns = string_list(using_clause);
            if (!item.condition && item.using_columns.empty())
                item.join_type = FromItem::JoinType::kCross;
            return item;
        }
        if (type == "RangeSubselect") {
            item.kind = FromItem::Kind::kSubquery;
            element sub;
            if (body["subquery"].get(sub)) return error_at(item.location, "malformed subquery");
            std::string_view sub_type;
            object sub_body;
            if (!node_type(sub, sub_type, sub_body) || sub_type != "SelectStmt") {
                return error_at(item.location, "a subquery in FROM must be a SELECT");
            }
            MILLRACE_ASSIGN_OR_RETURN(item.subquery, select(sub_body));
            return item;
        }
        if (type == "RangeFunction") {
            item.kind = FromItem::Kind::kFunction;
            array functions;
            if (body["functions"].get_array().get(functions))
                return error_at(item.location, "malformed table function");
            for (element entry : functions) {
                array pair;
                if (entry["List"]["items"].get_array().get(pair)) continue;
                for (element call : pair) {
                    std::string_view call_type;
                    object call_body;
                    if (node_type(call, call_type, call_body) && call_type == "SQLValueFunction") {
                        // FROM user: PostgreSQL reads the keyword USER as a function here.
                        const int at = location_of(call_body);
                        const std::string name = word_at(at);
                        return error_at(at,
                                        fmt::format("`{0}` is a reserved word in SQL, not a "
                                                    "table: a table named {0} is written \"{0}\"",
                                                    name));
                    }
                    if (call_type != "FuncCall") continue;
                    std::vector<std::string> names = string_list(call_body["funcname"]);
                    item.name = names.empty() ? "" : names.back();
                    item.location = location_of(call_body);
                    MILLRACE_TRY(expr_list(call_body["args"], item.args));
                    return item;
                }
            }
            return error_at(item.location, "malformed table function");
        }
        return error_at(item.location, fmt::format("unsupported FROM item ({})", type));
    }

    Result<std::unique_ptr<SelectStmt>> select(object body) {
        DepthGuard guard(depth_);
        if (depth_ > kMaxDepth)
            return error_at(-1, fmt::format("query nested more than {} levels deep", kMaxDepth));
        auto stmt = std::make_unique<SelectStmt>();
        std::string_view op;
        if (body["op"].get_string().get(op)) {
        }
        if (op != "SETOP_NONE" && !op.empty()) {
            bool all = false;
            if (body["all"].get_bool().get(all)) {
            }
            if (op == "SETOP_UNION") {
                stmt->set_op = all ? SelectStmt::SetOp::kUnionAll : SelectStmt::SetOp::kUnion;
            } else if (op == "SETOP_INTERSECT") {
                stmt->set_op = SelectStmt::SetOp::kIntersect;
            } else {
                stmt->set_op = SelectStmt::SetOp::kExcept;
            }
            object left, right;
            if (body["larg"].get_object().get(left) || body["rarg"].get_object().get(right)) {
                return error_at(-1, "malformed set operation");
            }
            MILLRACE_ASSIGN_OR_RETURN(stmt->left, select(left));
            MILLRACE_ASSIGN_OR_RETURN(stmt->right, select(right));
            stmt->location = stmt->left->location;
        } else {
            array values;
            if (!body["valuesLists"].get_array().get(values)) {
                return error_at(
                    -1, "VALUES lists are not supported; use SELECT ... UNION ALL SELECT ...");
            }
            if (!body["withClause"].error())
                return error_at(
                    -1, "WITH is not supported; define each common table expression as a view");
            if (!body["intoClause"].error())
                return error_at(-1, "SELECT INTO is not supported; use a sink");
            array distinct;
            if (!body["distinctClause"].get_array().get(distinct)) {
                for (element d : distinct) {
                    object o;
                    if (!d.get_object().get(o) && o.size() > 0) {
                        return error_at(-1, "DISTINCT ON is not supported; use GROUP BY");
                    }
                }
                stmt->distinct = true;
            }
            array targets;
            if (!body["targetList"].get_array().get(targets)) {
                for (element target : targets) {
                    object res;
                    if (target["ResTarget"].get_object().get(res))
                        return error_at(-1, "malformed select list");
                    SelectItem item;
                    std::string_view name;
                    if (!res["name"].get_string().get(name)) item.alias = std::string(name);
                    MILLRACE_ASSIGN_OR_RETURN(item.expr, expr(res["val"]));
                    if (stmt->location < 0) stmt->location = item.expr->location;
                    stmt->items.push_back(std::move(item));
                }
            }
            array from;
            if (!body["fromClause"].get_array().get(from)) {
                for (element f : from) {
                    MILLRACE_ASSIGN_OR_RETURN(FromItem item, from_item(f));
                    stmt->from.push_back(std::move(item));
                }
            }
            element where;
            if (!body["whereClause"].get(where)) {
                MILLRACE_ASSIGN_OR_RETURN(stmt->where, expr(where));
            }
            array group;
            if (!body["groupClause"].get_array().get(group)) {
                for (element g : group) {
                    std::string_view gtype;
                    object gbody;
                    if (node_type(g, gtype, gbody) && gtype == "GroupingSet") {
                        return error_at(location_of(gbody),
                                        "GROUPING SETS, ROLLUP and CUBE are not supported");
                    }
                    MILLRACE_ASSIGN_OR_RETURN(AstExprPtr e, expr(g));
                    stmt->group_by.push_back(std::move(e));
                }
            }
            element having;
            if (!body["havingClause"].get(having)) {
                MILLRACE_ASSIGN_OR_RETURN(stmt->having, expr(having));
            }
            if (!body["windowClause"].error())
                return error_at(-1, "WINDOW clauses are not supported");
        }
        array sort;
        if (!body["sortClause"].get_array().get(sort)) {
            for (element s : sort) {
                object sort_by;
                if (s["SortBy"].get_object().get(sort_by))
                    return error_at(-1, "malformed ORDER BY");
                OrderItem item;
                MILLRACE_ASSIGN_OR_RETURN(item.expr, expr(sort_by["node"]));
                std::string_view dir, nulls;
                if (sort_by["sortby_dir"].get_string().get(dir)) {
                }
                if (sort_by["sortby_nulls"].get_string().get(nulls)) {
                }
                if (dir == "SORTBY_USING")
                    return error_at(item.expr->location, "ORDER BY ... USING is not supported");
                item.descending = dir == "SORTBY_DESC";
                if (nulls == "SORTBY_NULLS_FIRST") item.nulls_first = true;
                if (nulls == "SORTBY_NULLS_LAST") item.nulls_first = false;
                stmt->order_by.push_back(std::move(item));
            }
        }
        element limit;
        if (!body["limitCount"].get(limit)) {
            MILLRACE_ASSIGN_OR_RETURN(stmt->limit, expr(limit));
        }
        if (!body["limitOffset"].get(limit)) {
            MILLRACE_ASSIGN_OR_RETURN(stmt->offset, expr(limit));
        }
        std::string_view limit_option;
        if (!body["limitOption"].get_string().get(limit_option) &&
            limit_option == "LIMIT_OPTION_WITH_TIES") {
            return error_at(-1, "FETCH ... WITH TIES is not supported");
        }
        return stmt;
    }

private:
    static constexpr int kMaxDepth = 200;
    std::string_view sql_;
    int depth_ = 0;
};

struct ParseResultGuard {
    PgQueryParseResult result;
    ~ParseResultGuard() { pg_query_free_parse_result(result); }
};

/// For "syntax error at or near \"order\"": PostgreSQL's reserved words that people also use
/// as column or table names, and how to write them as names.
std::optional<std::string> reserved_word_hint(std::string_view message) {
    constexpr std::string_view kPrefix = "syntax error at or near \"";
    if (!message.starts_with(kPrefix) || !message.ends_with("\"")) return std::nullopt;
    std::string word(message.substr(kPrefix.size(), message.size() - kPrefix.size() - 1));
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static constexpr std::string_view kNameLike[] = {
        "all",          "analyse",      "analyze",     "any",        "array",
        "asc",          "both",         "case",        "cast",       "check",
        "collate",      "column",       "constraint",  "create",     "current_catalog",
        "current_role", "current_user", "default",     "deferrable", "desc",
        "do",           "end",          "fetch",       "for",        "foreign",
        "grant",        "group",        "initially",   "into",       "lateral",
        "leading",      "limit",        "offset",      "only",       "order",
        "placing",      "primary",      "references",  "returning",  "session_user",
        "some",         "symmetric",    "system_user", "table",      "to",
        "trailing",     "unique",       "user",        "variadic",   "window"};
    for (std::string_view reserved : kNameLike) {
        if (word == reserved) {
            return fmt::format(
                " (`{0}` is a reserved word in SQL: a column or table named {0} "
                "is written \"{0}\")",
                word);
        }
    }
    return std::nullopt;
}

Result<object> parse_tree(std::string_view sql, simdjson::dom::parser& json_parser,
                          std::string& storage, ErrorCode code) {
    std::string text(sql);
    ParseResultGuard guard{pg_query_parse(text.c_str())};
    if (guard.result.error != nullptr) {
        int offset = guard.result.error->cursorpos > 0 ? guard.result.error->cursorpos - 1 : -1;
        if (offset >= static_cast<int>(sql.size())) offset = -1;
        std::string message = guard.result.error->message;
        if (auto hint = reserved_word_hint(message)) message += *hint;
        if (message.starts_with("memory exhausted")) {
            // Bison's stack limit: what hits it is nesting (parentheses, right-nested AND/OR).
            message = "the SQL is nested too deeply to parse (" + message + ")";
        }
        if (offset < 0 && message.find("end of input") != std::string::npos) {
            offset = static_cast<int>(sql.size());
        }
        return Error(code, message, location_in_text(sql, offset));
    }
    storage = guard.result.parse_tree;
    object root;
    if (json_parser.parse(storage).get_object().get(root)) {
        return Error(ErrorCode::kInternal, "could not read the SQL parse tree");
    }
    return root;
}

}  // namespace

SourceLocation location_in_text(std::string_view text, int offset) {
    SourceLocation location;
    if (offset < 0) return location;
    location.line = 1;
    location.column = 1;
    for (int i = 0; i < offset && i < static_cast<int>(text.size()); ++i) {
        if (text[i] == '\n') {
            ++location.line;
            location.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++location.column;
        }
    }
    return location;
}

Result<std::unique_ptr<SelectStmt>> parse_select(std::string_view sql) {
    simdjson::dom::parser json_parser;
    std::string storage;
    MILLRACE_ASSIGN_OR_RETURN(object root,
                              parse_tree(sql, json_parser, storage, ErrorCode::kParse));
    array statements;
    if (root["stmts"].get_array().get(statements) || statements.size() == 0) {
        return Error(ErrorCode::kParse, "empty SQL: expected a SELECT statement",
                     location_in_text(sql, 0));
    }
    if (statements.size() > 1) {
        int64_t offset = 0;
        if (statements.at(1)["stmt_location"].get_int64().get(offset)) {
        }
        return Error(ErrorCode::kParse, "expected one SELECT statement, found several",
                     location_in_text(sql, static_cast<int>(offset)));
    }
    std::string_view type;
    object body;
    Node first = statements.at(0)["stmt"];
    TreeConverter converter(sql);
    if (!TreeConverter::node_type(first, type, body) || type != "SelectStmt") {
        std::string found(type);
        if (found.ends_with("Stmt")) found.resize(found.size() - 4);
        for (char& c : found) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return Error(ErrorCode::kParse,
                     fmt::format("expected a SELECT statement, found {}",
                                 found.empty() ? "something else" : found),
                     location_in_text(sql, 0));
    }
    return converter.select(body);
}

Result<AstExprPtr> parse_expression(std::string_view sql) {
    // Parsed as the select list of "SELECT <expr>": locations are shifted back by that prefix.
    constexpr std::string_view kPrefix = "SELECT ";
    std::string text = std::string(kPrefix) + std::string(sql);
    auto statement = parse_select(text);
    if (!statement.ok()) {
        Error error = std::move(statement).error();
        SourceLocation location = error.location();
        if (location.line == 1 && location.column > static_cast<int>(kPrefix.size())) {
            location.column -= static_cast<int>(kPrefix.size());
        }
        return Error(error.code(), error.message(), location);
    }
    std::unique_ptr<SelectStmt> stmt = std::move(statement).value();
    if (stmt->set_op != SelectStmt::SetOp::kNone || stmt->items.size() != 1 ||
        !stmt->from.empty() || stmt->where) {
        return Error(ErrorCode::kParse, "expected one expression", location_in_text(sql, 0));
    }
    AstExprPtr expr = std::move(stmt->items[0].expr);
    // Shift every location back by the prefix.
    std::vector<AstExpr*> stack{expr.get()};
    while (!stack.empty()) {
        AstExpr* node = stack.back();
        stack.pop_back();
        if (node->location >= static_cast<int>(kPrefix.size()))
            node->location -= static_cast<int>(kPrefix.size());
        for (auto& arg : node->args) {
            if (arg) stack.push_back(arg.get());
        }
    }
    return expr;
}

}  // namespace millrace::sql
