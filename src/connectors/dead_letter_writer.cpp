#include "connectors/dead_letter_writer.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/durable_file.h"
#include "common/json_string.h"
#include "common/utf8.h"
#include "connectors/dead_letter_topic.h"
#include "connectors/staged_output.h"
#include "formats/base64.h"

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
    MILLRACE_TRY(create_parent_directories_durably(path));
    MILLRACE_ASSIGN_OR_RETURN(StagedOutput output, StagedOutput::create(path, inputs));
    auto writer = std::make_unique<DeadLetterWriter>();
    writer->path_ = path;
    writer->output_.emplace(std::move(output));
    MILLRACE_ASSIGN_OR_RETURN(writer->file_, writer->output_->stream());
    writer->pipeline_ = std::move(pipeline);
    return writer;
}

Result<std::unique_ptr<DeadLetterWriter>> DeadLetterWriter::open_append(
    std::string path, std::string pipeline, std::optional<uint64_t> keep_bytes,
    std::span<const std::string> inputs) {
    MILLRACE_TRY(refuse_input_as_output(path, inputs));
    MILLRACE_TRY(create_parent_directories_durably(path));
    std::error_code error;
    uint64_t size = 0;
    if (std::filesystem::exists(path, error)) size = std::filesystem::file_size(path, error);
    if (error) return io_error("cannot read the size of " + path);
    if (keep_bytes && size > *keep_bytes) {
        // Written after the checkpoint being restored: the replay writes these records again.
        if (::truncate(path.c_str(), static_cast<off_t>(*keep_bytes)) != 0)
            return io_error("cannot cut back " + path);
        size = *keep_bytes;
        MILLRACE_TRY(sync_file(path));
    }
    auto writer = std::make_unique<DeadLetterWriter>();
    writer->path_ = path;
    writer->append_ = true;
    writer->file_ = std::fopen(path.c_str(), "ab");
    if (writer->file_ == nullptr) return io_error("cannot open " + path);
    writer->start_bytes_ = size;
    writer->bytes_ = size;
    writer->pipeline_ = std::move(pipeline);
    MILLRACE_TRY(sync_directory(parent_directory(path)));
    return writer;
}

Result<uint64_t> DeadLetterWriter::sync() {
    if (!append_ || file_ == nullptr) {
        return Error(ErrorCode::kInternal, "the dead-letter file " + path_ + " is not appended");
    }
    MILLRACE_TRY(error_);
    MILLRACE_TRY(flush());
    // Nothing added since the last sync (the usual checkpoint): nothing to make durable.
    if (synced_bytes_ == bytes_) return bytes_;
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0)
        return io_error("cannot sync " + path_);
    synced_bytes_ = bytes_;
    return bytes_;
}

void DeadLetterWriter::begin_record(std::string_view origin_key, const std::string& origin) {
    record_start_ = buffer_.size();
    buffer_ += "{\"pipeline\":";
    append_json_string(buffer_, pipeline_);
    buffer_ += ",\"";
    buffer_ += origin_key;
    buffer_ += "\":";
    append_json_string(buffer_, origin);
}

void DeadLetterWriter::end_record(const std::string& reason_key) {
    const auto now =
        std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    buffer_ += fmt::format(",\"time\":\"{:%Y-%m-%dT%H:%M:%S}Z\"", now);
    buffer_ += '}';
    if (topic_ != nullptr) topic_->add(std::string_view(buffer_).substr(record_start_));
    buffer_ += '\n';
    ++count_;
    ++reasons_[reason_key];
    if (buffer_.size() > (1u << 20)) error_ = flush();
}

void DeadLetterWriter::add_decode_error(const std::string& source, const std::string& file,
                                        uint64_t line, uint64_t record, const std::string& reason,
                                        const std::string& raw) {
    begin_record("source", source);
    buffer_ += ",\"file\":";
    append_json_string(buffer_, file);
    buffer_ += fmt::format(",\"line\":{},\"record\":{}", line, record);
    // A topic source names its units "topic <name> partition <n>"; its records are offsets.
    constexpr std::string_view kTopic = "topic ";
    constexpr std::string_view kPartition = " partition ";
    const std::size_t cut = file.rfind(kPartition);
    const std::string_view partition = cut == std::string::npos
                                           ? std::string_view()
                                           : std::string_view(file).substr(cut + kPartition.size());
    const bool numbered =
        !partition.empty() && std::all_of(partition.begin(), partition.end(),
                                          [](char c) { return c >= '0' && c <= '9'; });
    if (file.starts_with(kTopic) && numbered && cut > kTopic.size()) {
        buffer_ += ",\"topic\":";
        append_json_string(buffer_, file.substr(kTopic.size(), cut - kTopic.size()));
        buffer_ += fmt::format(",\"partition\":{},\"offset\":{}", partition, record);
    }
    buffer_ += ",\"stage\":\"decode\",\"reason\":";
    append_json_string(buffer_, reason);
    buffer_ += ",\"raw\":";
    append_json_string(buffer_, raw);
    if (!is_valid_utf8(raw)) {
        buffer_ += ",\"raw_base64\":\"";
        append_base64(buffer_, raw);
        buffer_ += '"';
    }
    end_record(reason_class(reason));
}

void DeadLetterWriter::add_bad_file(const std::string& source, const std::string& file,
                                    const std::string& reason) {
    begin_record("source", source);
    buffer_ += ",\"file\":";
    append_json_string(buffer_, file);
    buffer_ += ",\"stage\":\"file\",\"reason\":";
    append_json_string(buffer_, reason);
    end_record("file set aside: " + reason_class(reason));
}

void DeadLetterWriter::add_row(const std::string& stage, const std::string& origin_key,
                               const std::string& origin, const std::string& reason,
                               const std::string& row_json, const std::string& check) {
    begin_record(origin_key, origin);
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
    end_record(reason_class(reason));
}

void DeadLetterWriter::add_late(const std::string& source, const std::string& topic,
                                std::size_t partition, const std::string& row_json) {
    begin_record("source", source);
    if (!topic.empty()) {
        buffer_ += ",\"topic\":";
        append_json_string(buffer_, topic);
        buffer_ += fmt::format(",\"partition\":{}", partition);
    }
    buffer_ += ",\"stage\":\"late\",\"reason\":\"late\",\"row\":";
    buffer_ += row_json;
    end_record("late");
}

Status DeadLetterWriter::flush() {
    if (buffer_.empty()) return {};
    if (file_ == nullptr) {
        return Error(ErrorCode::kInternal, "the dead-letter file " + path_ + " is closed");
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
        return Error(ErrorCode::kIo,
                     fmt::format("cannot write {}: {}", append_ ? path_ : output_->temp_path(),
                                 std::strerror(errno)));
    }
    bytes_ += buffer_.size();
    buffer_.clear();
    return {};
}

Status DeadLetterWriter::finish() {
    if (append_) {
        MILLRACE_TRY(sync());
        std::fclose(file_);
        file_ = nullptr;
        return {};
    }
    if (!output_) {
        return Error(ErrorCode::kInternal, "the dead-letter file " + path_ + " was aborted");
    }
    MILLRACE_TRY(error_);
    MILLRACE_TRY(flush());
    file_ = nullptr;  // closed by the commit
    return output_->commit();
}

void DeadLetterWriter::abort() {
    if (append_) {
        // What was appended stays; the next restore cuts back what no checkpoint counted.
        if (file_ != nullptr) std::fclose(file_);
        file_ = nullptr;
        return;
    }
    // An uncommitted StagedOutput removes its temporary file; a committed one stays.
    file_ = nullptr;
    output_.reset();
}

}  // namespace millrace
