#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/result.h"
#include "storage/object_store.h"

namespace millrace {

class ParquetReader;

/// Where the files of a lake table live when they are in an object store (S3), and the table's
/// commit pointer, which an object store cannot hold atomically (it has no rename and no
/// create-if-absent). The pointer is the local catalog entry of the table, under the data dir:
///
///   <data_dir>/lake/<table>/
///     object-store.catalog      storage s3://bucket/prefix
///                               endpoint http://127.0.0.1:9000
///                               region us-east-1
///                               version 1 s3://…/<table>/metadata/v1-<uuid>.metadata.json
///                               version 2 s3://…/<table>/metadata/v2-<uuid>.metadata.json
///     object-store.lock         flock(2) held while a committer moves the pointer
///     _staging/                 writers' staging stays local (staging_folder.h)
///
///   s3://bucket/prefix/<table>/
///     metadata/v<N>-<uuid>.metadata.json, snap-….avro, <uuid>-m0.avro
///     <partition folders>/part-….parquet
///
/// A commit writes every object under a name no other committer uses (data files, manifests,
/// the manifest list, then v<N>-<uuid>.metadata.json), and only then, under the lock, appends
/// `version N <url>` to the catalog file if its newest version is still N-1 (write to a
/// temporary file, fsync, rename: common/durable_file.h). That append is THE commit point. A
/// committer that loses the race, fails, or is killed before it leaves only objects no version
/// references, which remove_orphan_files() deletes. Credentials are never written: they come
/// from the environment of each process (storage/object_store.h).
///
/// Thread-safe: immutable apart from the store, which is.
class TableStorage {
public:
    /// The storage of a new table `name` under `config` (nothing is written yet).
    static Result<std::shared_ptr<TableStorage>> create(const std::string& table_path,
                                                        const std::string& name,
                                                        const ObjectStoreConfig& config);
    /// The storage the catalog entry of the table at `table_path` names; nullptr for a table
    /// whose files are local (no catalog entry).
    static Result<std::shared_ptr<TableStorage>> open(const std::string& table_path,
                                                      const std::string& name);
    /// Whether the table at `table_path` has an object-store catalog entry.
    static bool has_catalog(const std::string& table_path);
    /// The newest committed metadata version in the catalog entry (0: none).
    static int64_t latest_version(const std::string& table_path);

    /// s3://bucket/prefix/<table>: the table's Iceberg location.
    const std::string& location() const { return location_; }
    /// The URL of metadata version `version` (or "" when the catalog has no such version).
    std::string metadata_url(int64_t version) const;
    /// A new, unique URL for metadata version `version`.
    std::string new_metadata_url(int64_t version) const;
    /// Moves the pointer to `version` at `url` when the newest version is `version - 1`; false
    /// when another committer got there first.
    Result<bool> commit_version(int64_t version, const std::string& url) const;

    /// The object key of a path under the table's local folder or a URL under its location.
    std::string key_of(const std::string& path) const;
    Result<std::string> read(const std::string& path) const;
    Status write(const std::string& path, std::string_view bytes) const;
    Status upload(const std::string& local_file, const std::string& path) const;
    Status remove(const std::string& path) const;
    Result<std::unique_ptr<ParquetReader>> open_parquet(const std::string& path) const;
    ObjectStore& store() const { return *store_; }

private:
    TableStorage(std::string table_path, std::string name, ObjectStoreConfig config,
                 std::shared_ptr<ObjectStore> store);
    /// version → URL, as the catalog file lists them.
    static std::map<int64_t, std::string> versions(const std::string& table_path);

    std::string table_path_;
    std::string name_;
    ObjectStoreConfig config_;
    std::shared_ptr<ObjectStore> store_;
    std::string location_;
};

}  // namespace millrace
