#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/router.h"

namespace millrace {

class Clock;
class WriteHealth;

/// One storage component `GET /readyz` checks.
struct ReadinessComponent {
    std::string name;       // "log", "lake", "online_store"
    std::string directory;  // where it writes: free space and the write probe (the nearest
                            // existing parent when it does not exist yet)
    /// The component's last write failure, cleared by its next success (may be null).
    WriteHealth* health = nullptr;
    /// The component's own probe, run with the file probe (e.g. a real store write); may be
    /// empty. A failure is reported with its message.
    std::function<Status()> probe;
    /// Its last failed write, when the component keeps it itself (the online store); may be
    /// empty.
    std::function<std::optional<std::string>()> last_failure;
};

struct ReadinessOptions {
    /// A directory whose file system has fewer bytes free (for unprivileged users) fails.
    int64_t min_free_bytes = int64_t{64} << 20;
    /// Probes run at most this often; /readyz answers from the last results in between, so a
    /// flood of probe requests costs no disk writes.
    std::chrono::microseconds probe_interval = std::chrono::seconds(1);
};

/// Readiness of the server's storage (`GET /readyz`), as opposed to liveness (`/healthz`,
/// which stays "ok" while the process runs): a server whose disk is full is alive but must not
/// take traffic. Each component is failing when
///   - its last write failed (reported by its writers through WriteHealth: log appends and
///     fsyncs, online store writes) and no write or probe has succeeded since, or
///   - the file system of its directory has less than min_free_bytes available (statvfs), or
///   - the write probe fails: a 4 KiB file written, fdatasync'ed and removed in its directory,
///     plus the component's own probe (the online store writes a key of its own, synced).
/// A passing probe clears a failure recorded before it started, so a component nobody writes
/// to while it is reported not ready becomes ready once the disk has room again.
///
///   200 {"status":"ready","components":{"log":{"status":"ok","free_bytes":123},...}}
///   503 {"status":"not ready","components":{"log":{"status":"failing",
///        "errors":["cannot write in /data/log: No space left on device"],...},...},
///        "failing":["log"]}
///
/// Threads: check() and the route from any thread (probes are serialized by a mutex).
class Readiness {
public:
    /// `clock` and every component's health must outlive the object.
    Readiness(std::vector<ReadinessComponent> components, ReadinessOptions options,
              const Clock& clock);
    ~Readiness();
    Readiness(const Readiness&) = delete;
    Readiness& operator=(const Readiness&) = delete;

    struct ComponentStatus {
        std::string name;
        std::vector<std::string> errors;  // empty when ready
        std::optional<uint64_t> free_bytes;
        bool ready() const { return errors.empty(); }
    };
    std::vector<ComponentStatus> check();

    /// The /readyz answer of check().
    HttpResponse response();

    /// GET /readyz, open like /healthz.
    void add_routes(Router& router);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
