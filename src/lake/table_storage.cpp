#include "lake/table_storage.h"

#include <sys/stat.h>

#include <sstream>

#include "common/durable_file.h"
#include "common/file_lock.h"
#include "common/mapped_file.h"
#include "formats/parquet/parquet_reader.h"
#include "lake/iceberg_metadata.h"

namespace millrace {

namespace {

constexpr const char* kCatalogFile = "/object-store.catalog";
constexpr const char* kLockFile = "/object-store.lock";

struct CatalogEntry {
    ObjectStoreConfig config;
    std::map<int64_t, std::string> versions;
};

std::optional<CatalogEntry> read_catalog(const std::string& table_path) {
    auto text = read_file(table_path + kCatalogFile);
    if (!text.ok()) return std::nullopt;
    CatalogEntry entry;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string word;
        words >> word;
        if (word == "storage") {
            words >> entry.config.storage;
        } else if (word == "endpoint") {
            words >> entry.config.endpoint;
        } else if (word == "region") {
            words >> entry.config.region;
        } else if (word == "version") {
            int64_t version = 0;
            std::string url;
            if (words >> version >> url && version > 0) entry.versions[version] = url;
        }
    }
    return entry;
}

std::string catalog_text(const CatalogEntry& entry) {
    std::string out = "storage " + entry.config.storage + "\nendpoint " + entry.config.endpoint +
                      "\nregion " + entry.config.region + "\n";
    for (const auto& [version, url] : entry.versions) {
        out += "version " + std::to_string(version) + " " + url + "\n";
    }
    return out;
}

}  // namespace

TableStorage::TableStorage(std::string table_path, std::string name, ObjectStoreConfig config,
                           std::shared_ptr<ObjectStore> store)
    : table_path_(std::move(table_path)),
      name_(std::move(name)),
      config_(std::move(config)),
      store_(std::move(store)) {
    location_ = store_->url(name_);
}

Result<std::shared_ptr<TableStorage>> TableStorage::create(const std::string& table_path,
                                                           const std::string& name,
                                                           const ObjectStoreConfig& config) {
    MILLRACE_ASSIGN_OR_RETURN(std::shared_ptr<ObjectStore> store, open_object_store(config));
    return std::shared_ptr<TableStorage>(new TableStorage(table_path, name, config, store));
}

Result<std::shared_ptr<TableStorage>> TableStorage::open(const std::string& table_path,
                                                         const std::string& name) {
    auto entry = read_catalog(table_path);
    if (!entry) return std::shared_ptr<TableStorage>();
    auto store = open_object_store(entry->config);
    if (!store.ok()) {
        return Error(store.error().code(), "lake table `" + name + "` (in " +
                                               entry->config.storage +
                                               "): " + store.error().message());
    }
    return std::shared_ptr<TableStorage>(
        new TableStorage(table_path, name, entry->config, std::move(store).value()));
}

bool TableStorage::has_catalog(const std::string& table_path) {
    struct stat st;
    return ::stat((table_path + kCatalogFile).c_str(), &st) == 0;
}

std::map<int64_t, std::string> TableStorage::versions(const std::string& table_path) {
    auto entry = read_catalog(table_path);
    return entry ? entry->versions : std::map<int64_t, std::string>{};
}

int64_t TableStorage::latest_version(const std::string& table_path) {
    const auto all = versions(table_path);
    return all.empty() ? 0 : all.rbegin()->first;
}

std::string TableStorage::metadata_url(int64_t version) const {
    const auto all = versions(table_path_);
    auto it = all.find(version);
    return it == all.end() ? std::string() : it->second;
}

std::string TableStorage::new_metadata_url(int64_t version) const {
    return location_ + "/metadata/v" + std::to_string(version) + "-" + random_uuid() +
           ".metadata.json";
}

Result<bool> TableStorage::commit_version(int64_t version, const std::string& url) const {
    MILLRACE_TRY(create_directories_durably(table_path_));
    MILLRACE_ASSIGN_OR_RETURN(FileLock lock,
                              FileLock::acquire_waiting(table_path_ + kLockFile, "lake commit"));
    CatalogEntry entry;
    if (auto existing = read_catalog(table_path_)) entry = std::move(*existing);
    entry.config = config_;
    const int64_t newest = entry.versions.empty() ? 0 : entry.versions.rbegin()->first;
    if (newest != version - 1) return false;
    entry.versions[version] = url;
    MILLRACE_TRY(write_file_durably(table_path_ + kCatalogFile, catalog_text(entry)));
    return true;
}

std::string TableStorage::key_of(const std::string& path) const {
    if (path.rfind(table_path_ + "/", 0) == 0) {
        return name_ + path.substr(table_path_.size());
    }
    if (path.rfind(location_ + "/", 0) == 0) return name_ + path.substr(location_.size());
    const std::string root = store_->url("");
    if (path.rfind(root, 0) == 0) return path.substr(root.size());
    return path;
}

Result<std::string> TableStorage::read(const std::string& path) const {
    return store_->get(key_of(path));
}

Status TableStorage::write(const std::string& path, std::string_view bytes) const {
    return store_->put(key_of(path), bytes);
}

Status TableStorage::upload(const std::string& local_file, const std::string& path) const {
    return store_->put_file(key_of(path), local_file);
}

Status TableStorage::remove(const std::string& path) const { return store_->remove(key_of(path)); }

Result<std::unique_ptr<ParquetReader>> TableStorage::open_parquet(const std::string& path) const {
    MILLRACE_ASSIGN_OR_RETURN(std::string bytes, read(path));
    return ParquetReader::from_bytes(store_->url(key_of(path)), std::move(bytes));
}

}  // namespace millrace
