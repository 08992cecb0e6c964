#include "exec/geoip_database.h"

#include <fmt/format.h>
#include <maxminddb.h>

#include <filesystem>
#include <map>
#include <mutex>

namespace millrace {

struct GeoIpDatabase::Handle {
    MMDB_s mmdb{};
    bool open = false;
    ~Handle() {
        if (open) MMDB_close(&mmdb);
    }
};

GeoIpDatabase::GeoIpDatabase() : handle_(std::make_unique<Handle>()) {}
GeoIpDatabase::~GeoIpDatabase() = default;

Result<std::shared_ptr<const GeoIpDatabase>> GeoIpDatabase::open(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("the GeoIP database {} does not exist (or is not a file)", path));
    }
    std::shared_ptr<GeoIpDatabase> db(new GeoIpDatabase());
    const int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->handle_->mmdb);
    if (status != MMDB_SUCCESS) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("the GeoIP database {} cannot be opened: {}", path, MMDB_strerror(status)));
    }
    db->handle_->open = true;
    return std::shared_ptr<const GeoIpDatabase>(std::move(db));
}

Result<std::shared_ptr<const GeoIpDatabase>> GeoIpDatabase::open_shared(const std::string& path) {
    // A bounded cache in practice: one entry per configured database path.
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const GeoIpDatabase>> opened;
    std::lock_guard lock(mutex);
    if (auto it = opened.find(path); it != opened.end()) return it->second;
    MILLRACE_ASSIGN_OR_RETURN(std::shared_ptr<const GeoIpDatabase> db, open(path));
    opened.emplace(path, db);
    return db;
}

Result<std::optional<std::string>> GeoIpDatabase::lookup(std::string_view ip,
                                                         const char* const* path) const {
    const std::string text(ip);
    int gai_error = 0;
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_string(&handle_->mmdb, text.c_str(), &gai_error, &mmdb_error);
    if (gai_error != 0) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("invalid IP address: \"{}\"", text.substr(0, 64)));
    }
    if (mmdb_error != MMDB_SUCCESS) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("GeoIP lookup of {} failed: {}", text, MMDB_strerror(mmdb_error)));
    }
    if (!result.found_entry) return std::optional<std::string>();
    MMDB_entry_data_s data{};
    const int status = MMDB_aget_value(&result.entry, &data, path);
    if (status != MMDB_SUCCESS || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING)
        return std::optional<std::string>();
    return std::optional<std::string>(std::string(data.utf8_string, data.data_size));
}

Result<std::optional<std::string>> GeoIpDatabase::country(std::string_view ip) const {
    static const char* const kPath[] = {"country", "iso_code", nullptr};
    return lookup(ip, kPath);
}

Result<std::optional<std::string>> GeoIpDatabase::city(std::string_view ip) const {
    static const char* const kPath[] = {"city", "names", "en", nullptr};
    return lookup(ip, kPath);
}

}  // namespace millrace
