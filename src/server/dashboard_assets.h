#pragma once

#include <span>
#include <string_view>

namespace millrace {

/// One file of the web dashboard (src/server/dashboard/), compiled into the binary.
struct DashboardAsset {
    std::string_view name;  // "app.js"
    std::string_view content_type;
    std::string_view body;
};

/// Every dashboard file, sorted by name; generated at build time by cmake/embed_assets.cmake.
std::span<const DashboardAsset> dashboard_assets();

}  // namespace millrace
