#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.h"
#include "pipeline/checkpoint_store.h"

namespace millrace {

/// What a checkpoint writes, as the runner's thread hands it over once the barrier is
/// through: the state files (each the concatenation of its `parts`, owned here so the runner
/// may go on changing its operators), the older files it hard-links, and its metadata.
struct CheckpointWrite {
    struct File {
        std::string name;
        std::vector<std::string> parts;
        uint64_t bytes() const {
            uint64_t total = 0;
            for (const std::string& part : parts) total += part.size();
            return total;
        }
    };
    std::vector<File> files;
    /// (checkpoint, file): `file` of that older checkpoint, linked into this one.
    std::vector<std::pair<uint64_t, std::string>> links;
    CheckpointMetadata metadata;
};

/// The durable half of a checkpoint, on a thread of its own (asynchronous checkpoints, see
/// "Asynchronous checkpoints" in docs/streaming.md): start() writes the state files and links
/// at once; the metadata that completes the checkpoint waits until the runner says its sinks
/// are pre-committed (sinks_ready()); then retention. The runner's thread meanwhile goes on
/// with the records after the barrier, and commits the sinks once done() (wait()).
///
/// One checkpoint at a time; every call from the runner's thread. The store is used only by
/// the writer's thread between start() and wait().
class CheckpointWriter {
public:
    struct Outcome {
        Status status;
        /// Its metadata was written: the checkpoint is complete even if `status` is an error
        /// (retention failed), so what its sinks staged must stay for a restart to commit.
        bool completed = false;
        CheckpointMetadata metadata;
        /// The written files' bytes, handed back so that the runner's thread frees them once
        /// the writer's has ended (freeing large buffers while another thread of the process
        /// runs costs that thread TLB flushes).
        std::vector<CheckpointWrite::File> files;
    };

    explicit CheckpointWriter(CheckpointStore& store) : store_(store) {}
    /// Abandons a checkpoint whose sinks were never ready and waits for the thread.
    ~CheckpointWriter();
    CheckpointWriter(const CheckpointWriter&) = delete;
    CheckpointWriter& operator=(const CheckpointWriter&) = delete;

    /// Starts writing `checkpoint`. Nothing may be in flight (busy() false).
    void start(CheckpointWrite checkpoint);
    /// The checkpoint's sinks hold its rows durably: its metadata may be written.
    void sinks_ready();
    /// A checkpoint was started and not yet waited for.
    bool busy() const { return thread_.joinable(); }
    /// The started checkpoint is complete or failed: wait() will not block.
    bool done() const;
    /// Waits for the started checkpoint (a checkpoint whose sinks were never said ready is
    /// abandoned: no metadata, so the next start ignores and removes its folder).
    Outcome wait();

private:
    void run(CheckpointWrite checkpoint);

    CheckpointStore& store_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool ready_ = false;
    bool abandoned_ = false;
    bool done_ = false;
    Outcome outcome_;
};

}  // namespace millrace
