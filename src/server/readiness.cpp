#include "server/readiness.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "common/clock.h"
#include "common/json_string.h"
#include "common/write_health.h"

namespace millrace {

namespace {

constexpr std::size_t kProbeBytes = 4096;

// `directory`, or its nearest existing parent (a store not created yet lives on that disk).
std::string existing_directory(const std::string& directory) {
    std::error_code ec;
    std::filesystem::path path(directory);
    while (!path.empty() && !std::filesystem::is_directory(path, ec)) {
        if (!path.has_parent_path() || path.parent_path() == path) break;
        path = path.parent_path();
    }
    return path.empty() ? "." : path.string();
}

std::string errno_text(int error) { return std::strerror(error); }

// Writes, syncs and removes a small file: what a commit needs the disk to do.
std::optional<std::string> write_probe(const std::string& directory) {
    const std::string path =
        directory + "/.millrace-readyz-" + std::to_string(static_cast<int64_t>(::getpid()));
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot write in " + directory + ": " + errno_text(errno);
    std::string block(kProbeBytes, 'r');
    std::optional<std::string> problem;
    std::size_t written = 0;
    while (written < block.size()) {
        const ssize_t n = ::write(fd, block.data() + written, block.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            problem = "cannot write in " + directory + ": " + errno_text(errno);
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    if (!problem && ::fdatasync(fd) != 0) {
        problem = "cannot sync a file in " + directory + ": " + errno_text(errno);
    }
    ::close(fd);
    ::unlink(path.c_str());
    return problem;
}

}  // namespace

struct Readiness::Impl {
    std::vector<ReadinessComponent> components;
    ReadinessOptions options;
    const Clock& clock;
    std::mutex mutex;
    int64_t probed_at_us = 0;
    bool probed = false;
    std::vector<ComponentStatus> probes;  // per component: free space and probe results

    void run_probes() {
        probes.assign(components.size(), {});
        for (std::size_t i = 0; i < components.size(); ++i) {
            const ReadinessComponent& component = components[i];
            ComponentStatus& status = probes[i];
            status.name = component.name;
            const uint64_t generation =
                component.health != nullptr ? component.health->generation() : 0;
            const std::string directory = existing_directory(component.directory);
            struct statvfs fs {};
            if (::statvfs(directory.c_str(), &fs) == 0) {
                const uint64_t free_bytes = uint64_t{fs.f_bavail} * fs.f_frsize;
                status.free_bytes = free_bytes;
                if (free_bytes < static_cast<uint64_t>(options.min_free_bytes)) {
                    status.errors.push_back(std::to_string(free_bytes) + " bytes free in " +
                                            directory + ", below the floor of " +
                                            std::to_string(options.min_free_bytes) +
                                            " (serving.readiness.min_free_bytes)");
                }
            } else {
                status.errors.push_back("cannot stat " + directory + ": " + errno_text(errno));
            }
            if (auto problem = write_probe(directory)) status.errors.push_back(*problem);
            if (component.probe) {
                Status probed = component.probe();
                if (!probed.ok()) status.errors.push_back(probed.error().message());
            }
            if (status.errors.empty() && component.health != nullptr) {
                component.health->clear_if_unchanged_since(generation);
            }
        }
    }
};

Readiness::Readiness(std::vector<ReadinessComponent> components, ReadinessOptions options,
                     const Clock& clock)
    : impl_(new Impl{std::move(components), options, clock, {}, 0, false, {}}) {}

Readiness::~Readiness() = default;

std::vector<Readiness::ComponentStatus> Readiness::check() {
    std::lock_guard lock(impl_->mutex);
    const int64_t now = impl_->clock.now_micros();
    if (!impl_->probed || now - impl_->probed_at_us >= impl_->options.probe_interval.count() ||
        now < impl_->probed_at_us) {
        impl_->run_probes();
        impl_->probed = true;
        impl_->probed_at_us = now;
    }
    std::vector<ComponentStatus> out = impl_->probes;
    for (std::size_t i = 0; i < impl_->components.size(); ++i) {
        const ReadinessComponent& component = impl_->components[i];
        std::vector<std::string> recorded;
        if (component.health != nullptr) {
            if (auto failure = component.health->last_failure()) {
                recorded.push_back("last write failed: " + *failure);
            }
        }
        if (component.last_failure) {
            if (auto failure = component.last_failure()) {
                recorded.push_back("last write failed: " + *failure);
            }
        }
        out[i].errors.insert(out[i].errors.begin(), recorded.begin(), recorded.end());
    }
    return out;
}

HttpResponse Readiness::response() {
    const std::vector<ComponentStatus> statuses = check();
    bool ready = true;
    for (const ComponentStatus& status : statuses) ready &= status.ready();
    std::string body = ready ? "{\"status\":\"ready\"" : "{\"status\":\"not ready\"";
    body += ",\"components\":{";
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        const ComponentStatus& status = statuses[i];
        if (i > 0) body += ',';
        append_json_string(body, status.name);
        body += status.ready() ? ":{\"status\":\"ok\"" : ":{\"status\":\"failing\"";
        if (status.free_bytes) body += ",\"free_bytes\":" + std::to_string(*status.free_bytes);
        if (!status.ready()) {
            body += ",\"errors\":[";
            for (std::size_t e = 0; e < status.errors.size(); ++e) {
                if (e > 0) body += ',';
                append_json_string(body, status.errors[e]);
            }
            body += ']';
        }
        body += '}';
    }
    body += '}';
    if (!ready) {
        body += ",\"failing\":[";
        bool first = true;
        for (const ComponentStatus& status : statuses) {
            if (status.ready()) continue;
            if (!first) body += ',';
            first = false;
            append_json_string(body, status.name);
        }
        body += ']';
    }
    body += '}';
    return json_response(std::move(body), ready ? 200 : 503);
}

void Readiness::add_routes(Router& router) {
    router.add(HttpMethod::kGet, "/readyz", "readyz",
               [this](HttpRequest&, HttpResponder respond) { respond(response()); });
}

}  // namespace millrace
