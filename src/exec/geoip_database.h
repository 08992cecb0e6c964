#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace millrace {

/// A MaxMind-format IP database (.mmdb: GeoLite2/GeoIP2 Country or City, or any database with
/// their `country.iso_code` and `city.names.en` fields), opened with libmaxminddb and memory
/// mapped. Lookups take IPv4 or IPv6 text.
///
/// Opened once per path for the whole program (open_shared()) and immutable after: lookups may
/// run on any thread. The database is read, never written, so two programs may share the file.
class GeoIpDatabase {
public:
    ~GeoIpDatabase();
    GeoIpDatabase(const GeoIpDatabase&) = delete;
    GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

    /// Opens `path`; kNotFound when it does not exist, kInvalidArgument when it is not a
    /// MaxMind database (libmaxminddb's reason in the message).
    static Result<std::shared_ptr<const GeoIpDatabase>> open(const std::string& path);
    /// open(), but each path is opened once and shared by every caller.
    static Result<std::shared_ptr<const GeoIpDatabase>> open_shared(const std::string& path);

    /// The ISO 3166 country code of `ip` (e.g. "DE"); nullopt when the database has no entry
    /// for it. kInvalidArgument when `ip` is not an IP address.
    Result<std::optional<std::string>> country(std::string_view ip) const;
    /// The English city name of `ip`; nullopt when the database has none for it.
    Result<std::optional<std::string>> city(std::string_view ip) const;

private:
    GeoIpDatabase();
    Result<std::optional<std::string>> lookup(std::string_view ip, const char* const* path) const;
    struct Handle;
    std::unique_ptr<Handle> handle_;
};

}  // namespace millrace
