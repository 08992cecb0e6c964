#include "kafka/frame.h"

namespace millrace::kafka {

std::optional<RequestHeader> peek_request_header(std::string_view frame) {
    if (frame.size() < 8) return std::nullopt;
    WireReader reader(frame);
    RequestHeader header;
    header.api_key = reader.int16();
    header.api_version = reader.int16();
    header.correlation_id = reader.int32();
    return header;
}

Result<RequestHeader> read_request_header(WireReader& reader, bool flexible) {
    RequestHeader header;
    header.api_key = reader.int16();
    header.api_version = reader.int16();
    header.correlation_id = reader.int32();
    if (auto client = reader.string(false)) header.client_id = std::string(*client);
    if (flexible) reader.skip_tagged_fields();
    if (!reader.ok()) {
        return Error(ErrorCode::kInvalidArgument, "truncated Kafka request header");
    }
    return header;
}

std::string frame_request(const RequestHeader& header, bool flexible, std::string_view body) {
    WireWriter writer;
    writer.int32(0);
    writer.int16(header.api_key);
    writer.int16(header.api_version);
    writer.int32(header.correlation_id);
    writer.string(
        header.client_id ? std::optional<std::string_view>(*header.client_id) : std::nullopt,
        false);
    if (flexible) writer.empty_tagged_fields();
    writer.raw(body);
    std::string out = writer.take();
    const auto size = static_cast<uint32_t>(out.size() - kSizePrefix);
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(size >> (24 - 8 * i));
    return out;
}

std::string frame_response(int32_t correlation_id, bool header_v1, std::string_view body) {
    WireWriter writer;
    const std::size_t size = 4 + (header_v1 ? 1 : 0) + body.size();
    writer.buffer().reserve(kSizePrefix + size);
    writer.int32(static_cast<int32_t>(size));
    writer.int32(correlation_id);
    if (header_v1) writer.empty_tagged_fields();
    writer.raw(body);
    return writer.take();
}

}  // namespace millrace::kafka
