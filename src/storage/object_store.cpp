#include "storage/object_store.h"

#include <cstdlib>

#include "storage/local_object_store.h"
#include "storage/s3_object_store.h"

namespace millrace {

bool is_s3_url(std::string_view url) { return url.starts_with("s3://"); }

Result<std::shared_ptr<ObjectStore>> open_object_store(const ObjectStoreConfig& config) {
    if (!is_s3_url(config.storage)) {
        if (config.storage.empty()) {
            return Error(ErrorCode::kConfig, "lake storage: empty location");
        }
        std::string root = config.storage;
        if (root.starts_with("file://")) root = root.substr(7);
        return std::shared_ptr<ObjectStore>(std::make_shared<LocalObjectStore>(root));
    }
    S3Options options;
    std::string_view rest = std::string_view(config.storage).substr(5);
    const std::size_t slash = rest.find('/');
    options.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) options.prefix = std::string(rest.substr(slash + 1));
    while (!options.prefix.empty() && options.prefix.back() == '/') options.prefix.pop_back();
    if (options.bucket.empty()) {
        return Error(ErrorCode::kConfig,
                     "lake storage `" + config.storage + "`: expected s3://<bucket>/<prefix>");
    }
    if (config.endpoint.empty()) {
        return Error(ErrorCode::kConfig, "lake storage `" + config.storage +
                                             "` needs an `endpoint:` (http://host:port)");
    }
    auto endpoint = HttpUrl::parse(config.endpoint);
    if (!endpoint.ok()) {
        return Error(ErrorCode::kConfig,
                     "lake endpoint `" + config.endpoint + "`: " + endpoint.error().message());
    }
    options.endpoint = std::move(endpoint).value();
    if (!config.region.empty()) options.region = config.region;
    const char* key = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (key == nullptr || *key == '\0' || secret == nullptr || *secret == '\0') {
        return Error(ErrorCode::kConfig,
                     "lake storage `" + config.storage +
                         "`: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    options.credentials.access_key_id = key;
    options.credentials.secret_access_key = secret;
    if (const char* token = std::getenv("AWS_SESSION_TOKEN"); token != nullptr) {
        options.credentials.session_token = token;
    }
    if (const char* part = std::getenv("MILLRACE_S3_PART_BYTES"); part != nullptr && *part) {
        // Tests make small files go up in parts; S3 itself refuses parts under 5 MiB.
        const unsigned long long bytes = std::strtoull(part, nullptr, 10);
        if (bytes > 0) options.part_bytes = bytes;
    }
    return std::shared_ptr<ObjectStore>(std::make_shared<S3ObjectStore>(std::move(options)));
}

}  // namespace millrace
