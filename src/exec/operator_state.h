#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "types/batch.h"

namespace millrace {

/// The byte format of an operator's saved state (Operator::serialize_state). Every state starts
/// with one envelope, then a body that the operator defines (drawn in its .cpp):
///
///   +--------+---------+------+----------------------------+
///   | "MRST" | version | kind | body ...                   |
///   | 4 B    | u16     | u8   | to the end of the bytes    |
///   +--------+---------+------+----------------------------+
///
/// All integers little-endian. `version` is kOperatorStateVersion when written; a reader takes
/// kOldestOperatorStateVersion up to it and refuses any other (a change of a body's layout bumps
/// it, and the body's reader goes on reading the older layouts, StateReader::version()).
/// `kind` names the operator, so state cannot be restored into an operator of another kind.
/// Versions:
///
///   1  the first layout
///   2  a hash aggregate's state may end in a trailer (groups changed since the last emit, the
///      state TTL's fields), and its state changes (Operator::serialize_state_changes) list
///      the groups the state TTL dropped and carry the TTL's fields
///      (exec/hash_aggregate_operator.cpp)
///
/// Inside bodies:
///
///   u8/u16/u32/u64/i64   fixed width, little-endian
///   f64                  the IEEE-754 bits as u64
///   bytes                u64 length + the bytes
///   batch                u64 rows, u32 columns, then per column: u8 type, then per row
///                        u8 valid (0/1) and, when valid, the value: bool u8, int32/date i32
///                        as u32, int64/timestamp i64, double f64, string/bytes `bytes`
///
/// Nothing here is meant to be read by another program: a checkpoint is restored by a build
/// that reads its version, or refused.
enum class OperatorStateKind : uint8_t {
    kHashAggregate = 1,
    kHashJoin = 2,
    kSort = 3,
    kTopN = 4,
    kWindowAggregate = 5,
    kSessionWindowAggregate = 6,
    kStreamJoin = 7,
    kDeduplicate = 8,
    kRetractingAggregate = 9,
};

inline constexpr uint16_t kOperatorStateVersion = 2;
inline constexpr uint16_t kOldestOperatorStateVersion = 1;

/// Appends the fields of a state to one string.
class StateWriter {
public:
    /// Starts with the envelope for `kind`.
    explicit StateWriter(OperatorStateKind kind);

    void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u16(uint16_t v) { fixed(v, 2); }
    void u32(uint32_t v) { fixed(v, 4); }
    void u64(uint64_t v) { fixed(v, 8); }
    void i64(int64_t v) { fixed(static_cast<uint64_t>(v), 8); }
    void f64(double v);
    void bytes(std::string_view v);
    void batch(const Batch& batch);
    /// Room for `more` bytes beyond what is written, so that a large state grows its string
    /// once instead of copying itself at every doubling.
    void reserve(std::size_t more) { out_.reserve(out_.size() + more); }

    std::string finish() && { return std::move(out_); }

private:
    void fixed(uint64_t v, int width);
    std::string out_;
};

/// Reads what StateWriter wrote. Every read checks the bounds; a short or malformed input is
/// ErrorCode::kCorruption, never a crash.
class StateReader {
public:
    /// Checks the envelope (magic, version, `kind`).
    static Result<StateReader> open(std::string_view bytes, OperatorStateKind kind);

    /// The envelope's version: which layout the body has.
    uint16_t version() const { return version_; }

    Result<uint8_t> u8();
    Result<uint16_t> u16();
    Result<uint32_t> u32();
    Result<uint64_t> u64();
    Result<int64_t> i64();
    Result<double> f64();
    Result<std::string_view> bytes();
    /// A batch of `schema` (its column types must match what was written).
    Result<Batch> batch(const std::shared_ptr<const Schema>& schema);
    /// A count of items that each take at least `min_item_bytes` more: bounded by what is left,
    /// so corrupt counts cannot make a reader allocate without limit.
    Result<uint64_t> count(std::size_t min_item_bytes);
    /// Fails unless every byte was read.
    Status expect_end() const;
    /// Whether every byte was read (an optional trailing section is absent).
    bool at_end() const { return pos_ == in_.size(); }
    Error corrupt(std::string_view what) const;

private:
    explicit StateReader(std::string_view bytes) : in_(bytes) {}
    Result<uint64_t> fixed(int width);
    std::string_view in_;
    std::size_t pos_ = 0;
    uint16_t version_ = kOperatorStateVersion;
};

}  // namespace millrace
