#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kafka/wire.h"

namespace millrace::kafka {

/// The types of Kafka's message schemas (apache/kafka clients/src/main/resources/common/
/// message/*.json): "int32", "string", "records", "[]Struct", "[]int32"...
enum class FieldType : uint8_t {
    kBool,
    kInt8,
    kInt16,
    kInt32,
    kInt64,
    kFloat64,
    kUuid,
    kString,
    kBytes,
    kRecords,
    kStructArray,
    kInt32Array,
    kStringArray,
};

inline constexpr int16_t kNoVersion = -1;
inline constexpr int16_t kAnyVersion = 0x7fff;

/// A version range [min, max]; "none" when min is kNoVersion.
struct Versions {
    int16_t min = kNoVersion;
    int16_t max = kAnyVersion;
    bool contains(int16_t version) const {
        return min != kNoVersion && version >= min && version <= max;
    }
};
/// "N+" and "N-M" of the JSON schemas.
constexpr Versions from(int16_t min) { return {min, kAnyVersion}; }
constexpr Versions range(int16_t min, int16_t max) { return {min, max}; }
constexpr Versions kNone{};

/// One field of a message: the JSON schema's name, type, versions, nullableVersions and
/// default, and for struct arrays the fields of each element. Tagged-only fields of newer
/// versions are left out (their tags are read and skipped).
struct Field {
    std::string_view name;
    FieldType type;
    Versions versions;
    Versions nullable = kNone;
    std::vector<Field> fields = {};
    int64_t default_value = 0;
};

/// The fields of a request or a response body (or of an array element).
using Schema = std::vector<Field>;

/// A request or response body (or an array element) of one schema, decoded: one value per
/// field, whatever the version (fields absent from a version hold their default). Fields are
/// found by the schema's name; asking for a name the schema lacks is a programming error
/// (checked).
class Struct {
public:
    explicit Struct(const Schema& schema);

    int64_t integer(std::string_view name) const;
    bool boolean(std::string_view name) const { return integer(name) != 0; }
    const std::string& string(std::string_view name) const;
    bool is_null(std::string_view name) const;
    const std::vector<Struct>& array(std::string_view name) const;
    std::vector<Struct>& array(std::string_view name);
    const std::vector<int64_t>& integers(std::string_view name) const;
    const std::vector<std::string>& strings(std::string_view name) const;

    Struct& set(std::string_view name, int64_t value);
    Struct& set(std::string_view name, std::string value);
    Struct& set_null(std::string_view name);
    Struct& set(std::string_view name, std::vector<int64_t> values);
    Struct& set(std::string_view name, std::vector<std::string> values);
    /// Appends an element to a struct array and returns it.
    Struct& add(std::string_view name);

    const Schema& schema() const { return *schema_; }

private:
    friend class MessageCodec;
    struct Value {
        int64_t number = 0;
        double real = 0;
        bool null = false;
        std::string text;
        std::vector<Struct> items;
        std::vector<int64_t> numbers;
        std::vector<std::string> texts;
    };
    std::size_t index(std::string_view name) const;

    const Schema* schema_;
    std::vector<Value> values_;
};

/// The one encoder and decoder of every message: walks a Schema for a version, flexible
/// (KIP-482: compact lengths, tagged-field sections after every struct) from
/// `flexible_from` on.
class MessageCodec {
public:
    /// Decodes a body; kInvalidArgument when it is truncated or malformed. `reader` is left
    /// after the body.
    static Result<Struct> decode(const Schema& schema, int16_t version, bool flexible,
                                 WireReader& reader);
    static void encode(const Struct& message, int16_t version, bool flexible, WireWriter& writer);

private:
    static void decode_fields(const Schema& schema, int16_t version, bool flexible,
                              WireReader& reader, Struct& out, int depth);
    static void encode_fields(const Struct& message, int16_t version, bool flexible,
                              WireWriter& writer);
};

}  // namespace millrace::kafka
