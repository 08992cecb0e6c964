#include "net/durable_outbox.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>

#include "common/durable_file.h"
#include "common/file_lock.h"
#include "common/text_file.h"
#include "net/http_client.h"
#include "net/http_url.h"

namespace millrace {

namespace {

std::atomic<uint64_t> g_sequence{0};

std::vector<std::string> json_files(const std::string& folder) {
    std::vector<std::string> names;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
        const std::string name = entry.path().filename().string();
        // Half-written temporaries (`<name>.tmp-...`) end otherwise.
        if (name.size() > 5 && name.ends_with(".json")) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Keeps the newest `keep` files of `folder`.
void prune(const std::string& folder, std::size_t keep) {
    std::vector<std::string> names = json_files(folder);
    if (names.size() <= keep) return;
    std::error_code error;
    for (std::size_t i = 0; i + keep < names.size(); ++i) {
        std::filesystem::remove(folder + "/" + names[i], error);
    }
}

}  // namespace

DurableOutbox::DurableOutbox(std::string directory) : directory_(std::move(directory)) {}

Status DurableOutbox::add(std::string_view body, int64_t time_micros) {
    const std::string name =
        fmt::format("{:020d}-{:08d}-{:06d}.json", std::max<int64_t>(time_micros, 0),
                    static_cast<int>(::getpid()), g_sequence.fetch_add(1) % 1'000'000);
    const std::string path = directory_ + "/outbox/" + name;
    MILLRACE_TRY(create_parent_directories_durably(path));
    std::string text(body);
    if (text.empty() || text.back() != '\n') text += '\n';
    return write_file_durably(path, text);
}

Result<OutboxDelivery> DurableOutbox::deliver(const std::string& url,
                                              std::chrono::milliseconds timeout,
                                              std::size_t max_messages) {
    MILLRACE_ASSIGN_OR_RETURN(HttpEndpoint endpoint, HttpEndpoint::parse(url));
    OutboxDelivery result;
    const std::string outbox = directory_ + "/outbox";
    std::vector<std::string> names = json_files(outbox);
    result.pending = names.size();
    if (names.empty()) return result;
    MILLRACE_TRY(create_directories_durably(directory_));
    Result<FileLock> lock = FileLock::try_acquire(directory_ + "/deliver.lock", "outbox delivery");
    if (!lock.ok()) return result;  // another process is delivering them
    names = json_files(outbox);     // it may have delivered some before the lock was taken
    // The receiver is not Millrace: the environment's bearer token is not sent to it.
    HttpClient client(endpoint.server, timeout, {}, /*send_environment_token=*/false);
    for (const std::string& name : names) {
        if (result.delivered + result.rejected >= max_messages) break;
        // A message is a few KiB; the bound only guards against a stray huge file.
        Result<std::string> body = read_text_file(outbox + "/" + name, 64u << 20);
        if (!body.ok()) {
            result.error = body.error().message();
            break;
        }
        Result<HttpReply> reply = client.request("POST", endpoint.target, *body);
        if (!reply.ok()) {
            result.error = reply.error().message();
            break;
        }
        const int status = reply->status;
        std::string folder;
        if (status >= 200 && status < 300) {
            folder = "sent";
            ++result.delivered;
        } else if (status >= 400 && status < 500 && status != 408 && status != 429) {
            // Sending it again would be refused again and hold back every later message.
            folder = "rejected";
            ++result.rejected;
        } else {
            result.error = fmt::format("{} answered HTTP {}", url, status);
            break;
        }
        MILLRACE_TRY(create_directories_durably(directory_ + "/" + folder));
        MILLRACE_TRY(rename_durably(outbox + "/" + name, directory_ + "/" + folder + "/" + name));
    }
    prune(directory_ + "/sent", kSentKept);
    result.pending = json_files(outbox).size();
    return result;
}

std::size_t DurableOutbox::depth() const { return json_files(directory_ + "/outbox").size(); }

std::vector<std::string> DurableOutbox::message_files() const {
    std::vector<std::string> paths;
    for (const char* folder : {"sent", "outbox"}) {
        for (const std::string& name : json_files(directory_ + "/" + folder)) {
            paths.push_back(directory_ + "/" + folder + "/" + name);
        }
    }
    std::sort(paths.begin(), paths.end(), [](const std::string& a, const std::string& b) {
        return std::filesystem::path(a).filename() < std::filesystem::path(b).filename();
    });
    return paths;
}

}  // namespace millrace
