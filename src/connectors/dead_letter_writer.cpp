#include "connectors/dead_letter_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "connectors/staged_output.h"

namespace millrace {

namespace {

/// A reason without the offending value, for grouping: `field `amount`: expected double, got
/// "abc"` → `field `amount`: expected double`.
std::string reason_class(const std::string& reason) {
    std::size_t cut = reason.find(", got");
    if (cut == std::string::npos) cut = reason.find(": \"");
    std::string out = cut == std::string::npos ? reason : reason.substr(0, cut);
    if (out.size() > 120) out.resize(120);
    return out;
}

}  // namespace

Result<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::create(
    std::string path, std::string pipeline, std::span<const std::string> inputs) {
    MILLRACE_TRY(refuse_input_as_output(path, inputs));
    auto writer = std::make_unique<DeadLetterWriter>();
    writer->path_ = std::move(path);
    writer->pipeline_ = std::move(pipeline);
    MILLRACE_TRY(create_parent_directories_durably(writer->path_));
    writer->temp_path_ = unique_temporary_path(writer->path_);
    writer->file_ = std::fopen(writer->temp_path_.c_str(), "wb");
    if (writer->file_ == nullptr) {
        return Error(ErrorCode::kIo,
                     fmt::format("cannot create {}: {}", writer->temp_path_, std::strerror(errno)));
    }
    return writer;
}

void DeadLetterWriter::add_decode_error(const std::string& source, const std::string& file,
                                        uint64_t line, uint64_t record, const std::string& reason,
                                        const std::string& raw) {
    buffer_ += "{\"pipeline\":";
    append_json_string(buffer_, pipeline_);
    buffer_ += ",\"source\":";
    append_json_string(buffer_, source);
    buffer_ += ",\"file\":";
    append_json_string(buffer_, file);
    buffer_ +=
        fmt::format(",\"line\":{},\"record\":{},\"stage\":\"decode\",\"reason\":", line, record);
    append_json_string(buffer_, reason);
    buffer_ += ",\"raw\":";
    append_json_string(buffer_, raw);
    buffer_ += "}\n";
    ++count_;
    ++reasons_[reason_class(reason)];
    if (buffer_.size() > (1u << 20)) error_ = flush();
}

void DeadLetterWriter::add_bad_file(const std::string& source, const std::string& file,
                                    const std::string& reason) {
    buffer_ += "{\"pipeline\":";
    append_json_string(buffer_, pipeline_);
    buffer_ += ",\"source\":";
    append_json_string(buffer_, source);
    buffer_ += ",\"file\":";
    append_json_string(buffer_, file);
    buffer_ += ",\"stage\":\"file\",\"reason\":";
    append_json_string(buffer_, reason);
    buffer_ += "}\n";
    ++count_;
    ++reasons_["file set aside: " + reason_class(reason)];
    if (buffer_.size() > (1u << 20)) error_ = flush();
}

void DeadLetterWriter::add_row(const std::string& stage, const std::string& origin_key,
                               const std::string& origin, const std::string& reason,
                               const std::string& row_json, const std::string& check) {
    buffer_ += "{\"pipeline\":";
    append_json_string(buffer_, pipeline_);
    buffer_ += ",\"";
    buffer_ += origin_key;
    buffer_ += "\":";
    append_json_string(buffer_, origin);
    buffer_ += ",\"stage\":";
    append_json_string(buffer_, stage);
    if (!check.empty()) {
        buffer_ += ",\"check\":";
        append_json_string(buffer_, check);
    }
    buffer_ += ",\"reason\":";
    append_json_string(buffer_, reason);
    buffer_ += ",\"row\":";
    buffer_ += row_json;
    buffer_ += "}\n";
    ++count_;
    ++reasons_[reason_class(reason)];
    if (buffer_.size() > (1u << 20)) error_ = flush();
}

Status DeadLetterWriter::flush() {
    if (buffer_.empty()) return {};
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
        return Error(ErrorCode::kIo,
                     fmt::format("cannot write {}: {}", temp_path_, std::strerror(errno)));
    }
    buffer_.clear();
    return {};
}

Status DeadLetterWriter::finish() {
    MILLRACE_TRY(error_);
    MILLRACE_TRY(flush());
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
        return Error(ErrorCode::kIo,
                     fmt::format("cannot flush {}: {}", temp_path_, std::strerror(errno)));
    }
    std::fclose(file_);
    file_ = nullptr;
    MILLRACE_TRY(rename_durably(temp_path_, path_));
    finished_ = true;
    return {};
}

void DeadLetterWriter::abort() {
    if (file_ != nullptr) {
        std::fclose(file_);
        file_ = nullptr;
        if (!finished_) ::unlink(temp_path_.c_str());
    }
}

}  // namespace millrace
