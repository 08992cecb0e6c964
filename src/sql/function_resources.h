#pragma once

#include <string>

namespace millrace::sql {

/// What functions that read outside data need, from the project's configuration: the binder
/// checks it when it binds a call (so a missing setting is a validate error at the call) and
/// passes it on in the bound call.
struct FunctionResources {
    /// ip_country(), ip_city(): the MaxMind database (.mmdb), an absolute path; empty when the
    /// project sets none (`geoip: { database: ... }` in millrace.yaml).
    std::string geoip_database;
};

}  // namespace millrace::sql
