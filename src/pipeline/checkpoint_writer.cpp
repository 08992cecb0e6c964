#include "pipeline/checkpoint_writer.h"

#include <string_view>

#include "common/crash_point.h"

namespace millrace {

CheckpointWriter::~CheckpointWriter() {
    if (busy()) (void)wait();
}

void CheckpointWriter::start(CheckpointWrite checkpoint) {
    {
        std::lock_guard lock(mutex_);
        ready_ = false;
        abandoned_ = false;
        done_ = false;
        outcome_ = Outcome{};
    }
    thread_ = std::thread(
        [this, checkpoint = std::move(checkpoint)]() mutable { run(std::move(checkpoint)); });
}

void CheckpointWriter::sinks_ready() {
    std::lock_guard lock(mutex_);
    ready_ = true;
    changed_.notify_all();
}

bool CheckpointWriter::done() const {
    std::lock_guard lock(mutex_);
    return done_;
}

CheckpointWriter::Outcome CheckpointWriter::wait() {
    {
        std::lock_guard lock(mutex_);
        if (!ready_) abandoned_ = true;
        changed_.notify_all();
    }
    thread_.join();
    std::lock_guard lock(mutex_);
    return std::move(outcome_);
}

void CheckpointWriter::run(CheckpointWrite checkpoint) {
    const uint64_t id = checkpoint.metadata.id;
    auto write = [&]() -> Status {
        for (const CheckpointWrite::File& file : checkpoint.files) {
            std::vector<std::string_view> pieces(file.parts.begin(), file.parts.end());
            MILLRACE_TRY(store_.write_state(id, file.name, pieces));
        }
        for (const auto& [previous, file] : checkpoint.links)
            MILLRACE_TRY(store_.link_state(previous, id, file));
        return {};
    };
    Status status = write();
    if (status.ok()) crash_point("checkpoint-state-written");
    bool go = false;
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return ready_ || abandoned_; });
        go = ready_ && !abandoned_;
    }
    bool completed = false;
    if (status.ok() && go) {
        status = store_.complete(checkpoint.metadata, &completed);
        if (completed) crash_point("checkpoint-complete");
    }
    std::lock_guard lock(mutex_);
    outcome_.status = std::move(status);
    outcome_.completed = completed;
    outcome_.metadata = std::move(checkpoint.metadata);
    outcome_.files = std::move(checkpoint.files);
    done_ = true;
}

}  // namespace millrace
