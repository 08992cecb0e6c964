#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// One stored object, as list() and head() describe it.
struct ObjectInfo {
    std::string key;  // relative to the store's root
    uint64_t size = 0;
    int64_t modified_ms = 0;  // epoch milliseconds
};

/// Where objects live: a flat namespace of keys ("orders/metadata/v1-….metadata.json") under a
/// root (a local folder, or an S3 bucket and prefix). The lake writes data files, manifests,
/// manifest lists and metadata files through it; it never renames (object stores cannot), so
/// every write is a whole new object with a name no one else picks, and the commit point lives
/// elsewhere (the lake's local catalog pointer, lake_table.h).
///
/// Every operation is whole or nothing: a put() that fails leaves either no object or the old
/// one, never part of the new bytes (S3 makes an object visible only when its upload completes;
/// the local store writes a temporary file and renames it). Implementations are thread-safe.
class ObjectStore {
public:
    virtual ~ObjectStore() = default;

    /// The URL of `key` as metadata records it ("s3://bucket/prefix/key", or an absolute path).
    virtual std::string url(std::string_view key) const = 0;

    /// Stores `bytes` as `key`, replacing it.
    virtual Status put(std::string_view key, std::string_view bytes) = 0;
    /// Stores the local file `path` as `key` (large files in parts: S3 multipart uploads).
    virtual Status put_file(std::string_view key, const std::string& path) = 0;
    /// The whole object; kNotFound when there is none.
    virtual Result<std::string> get(std::string_view key) = 0;
    /// `length` bytes from `offset` (fewer at the end of the object); kNotFound as get().
    virtual Result<std::string> get_range(std::string_view key, uint64_t offset,
                                          uint64_t length) = 0;
    /// Copies the object into the local file `path` (created or replaced).
    virtual Status get_file(std::string_view key, const std::string& path) = 0;
    /// Every object whose key starts with `prefix`, sorted by key.
    virtual Result<std::vector<ObjectInfo>> list(std::string_view prefix) = 0;
    /// Removes `key`; removing a missing object is not an error.
    virtual Status remove(std::string_view key) = 0;
    /// The object's size and age, or nullopt when it does not exist.
    virtual Result<std::optional<ObjectInfo>> head(std::string_view key) = 0;
};

/// What a project says about where the lake lives (`lake: { storage:, endpoint:, region: }`).
/// `storage` is "s3://bucket/prefix" (path-style requests to `endpoint`, credentials from the
/// environment) or a local folder.
struct ObjectStoreConfig {
    std::string storage;
    std::string endpoint;
    std::string region = "us-east-1";
};

/// Opens the store `config` names. An S3 store reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
/// and AWS_SESSION_TOKEN (optional) from the environment: kConfig when they are missing, or when
/// the URL or endpoint does not parse (only http:// endpoints: no TLS).
Result<std::shared_ptr<ObjectStore>> open_object_store(const ObjectStoreConfig& config);

/// True for "s3://…" URLs.
bool is_s3_url(std::string_view url);

}  // namespace millrace
