#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "kafka/wire.h"

namespace millrace::kafka {

/// Kafka's framing (big-endian throughout):
///
///   request  := size int32 | header | body          size = bytes after the size field
///   header v1 := api_key int16 | api_version int16 | correlation_id int32
///               | client_id nullable string (int16 length, -1 = null)
///   header v2 := header v1 | tagged fields            (requests of flexible versions; the
///                                                      client_id stays a non-compact string)
///   response := size int32 | correlation_id int32 | [tagged fields] | body
///
/// A response carries header v1 (with the tagged-field section) when its request used a
/// flexible version, except ApiVersions, whose response always uses header v0 (KIP-511) so a
/// client can read it whatever version it asked for.
inline constexpr std::size_t kSizePrefix = 4;

struct RequestHeader {
    int16_t api_key = 0;
    int16_t api_version = 0;
    int32_t correlation_id = 0;
    std::optional<std::string> client_id;
};

/// The api_key, api_version and correlation_id of a request frame (without its size prefix);
/// nullopt when the frame is shorter than those 8 bytes.
std::optional<RequestHeader> peek_request_header(std::string_view frame);

/// Parses the whole header (v1, or v2 when `flexible`); `reader` is left at the body.
/// kInvalidArgument when truncated.
Result<RequestHeader> read_request_header(WireReader& reader, bool flexible);

/// Writes a request frame: size, header (v2 when `flexible`), body. For tests and clients.
std::string frame_request(const RequestHeader& header, bool flexible, std::string_view body);

/// Writes a response frame: size, correlation id, an empty tagged-field section when
/// `header_v1`, body.
std::string frame_response(int32_t correlation_id, bool header_v1, std::string_view body);

}  // namespace millrace::kafka
