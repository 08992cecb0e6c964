#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "types/data_type.h"

namespace millrace {

/// A single dynamically typed value, or null. For constants, defaults, statistics and tests;
/// hot paths work on Columns instead.
class Value {
public:
    Value() = default;  // null
    static Value null() { return Value(); }
    static Value boolean(bool v) { return Value(DataType::kBool, v); }
    static Value int32(int32_t v) { return Value(DataType::kInt32, v); }
    static Value int64(int64_t v) { return Value(DataType::kInt64, v); }
    static Value float64(double v) { return Value(DataType::kFloat64, v); }
    static Value string(std::string v) { return Value(DataType::kString, std::move(v)); }
    static Value bytes(std::string v) { return Value(DataType::kBytes, std::move(v)); }
    static Value timestamp(int64_t micros) { return Value(DataType::kTimestamp, micros); }
    static Value date(int32_t days) { return Value(DataType::kDate, days); }

    bool is_null() const { return std::holds_alternative<std::monostate>(data_); }
    /// The type; meaningless when is_null().
    DataType type() const { return type_; }

    bool as_bool() const { return std::get<bool>(data_); }
    int32_t as_int32() const { return std::get<int32_t>(data_); }  // int32 and date
    int64_t as_int64() const { return std::get<int64_t>(data_); }  // int64 and timestamp
    double as_double() const { return std::get<double>(data_); }
    const std::string& as_string() const { return std::get<std::string>(data_); }  // and bytes

    /// Human-readable text: NULL, true, 42, 1.5, abc, 2024-01-01T00:00:00Z, 2024-01-01; bytes
    /// as \x-escaped hex.
    std::string to_string() const;

    bool operator==(const Value& other) const {
        return is_null() ? other.is_null() : (type_ == other.type_ && data_ == other.data_);
    }

private:
    template <typename T>
    Value(DataType type, T v) : type_(type), data_(std::move(v)) {}

    DataType type_ = DataType::kInt64;
    std::variant<std::monostate, bool, int32_t, int64_t, double, std::string> data_;
};

}  // namespace millrace
