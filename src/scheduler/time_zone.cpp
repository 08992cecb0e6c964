#include "scheduler/time_zone.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace millrace {

namespace {

constexpr const char* kZoneInfoDir = "/usr/share/zoneinfo/";

int64_t read_be(const unsigned char* p, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | p[i];
    if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(value));
    return static_cast<int64_t>(value);
}

bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '/') return false;
    if (name.find("..") != std::string_view::npos) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '/' || c == '_' || c == '-' || c == '+';
    });
}

}  // namespace

TimeZone TimeZone::utc() {
    TimeZone zone;
    zone.name_ = "UTC";
    return zone;
}

Result<TimeZone> TimeZone::load(std::string_view name) {
    if (name == "UTC" || name == "Etc/UTC" || name == "Z") return utc();
    if (!valid_zone_name(name)) {
        return Error(ErrorCode::kInvalidArgument,
                     "`" + std::string(name) + "` is not a time zone name (e.g. Europe/Paris)");
    }
    // A folder of the database (`Europe`) is not a zone: reading it would fail mid-stream.
    std::error_code error;
    const bool regular = std::filesystem::is_regular_file(kZoneInfoDir + std::string(name), error);
    std::ifstream in(kZoneInfoDir + std::string(name), std::ios::binary);
    if (!regular || !in) {
        return Error(ErrorCode::kNotFound, "unknown time zone `" + std::string(name) +
                                               "` (not in the tz database under " + kZoneInfoDir +
                                               ")");
    }
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    auto corrupt = [&] {
        return Error(ErrorCode::kCorruption,
                     "time zone file for `" + std::string(name) + "` is not a TZif file");
    };
    // TZif (RFC 8536): a 44-byte header, a v1 block with 32-bit times, and for version >= 2 a
    // second header and block with 64-bit times, which we read.
    std::size_t pos = 0;
    bool use_64 = false;
    for (int pass = 0; pass < 2; ++pass) {
        if (bytes.size() < pos + 44 ||
            std::string_view(reinterpret_cast<const char*>(&bytes[pos]), 4) != "TZif") {
            return corrupt();
        }
        const unsigned char version = bytes[pos + 4];
        const unsigned char* h = &bytes[pos + 20];
        const int64_t isutcnt = read_be(h, 4), isstdcnt = read_be(h + 4, 4),
                      leapcnt = read_be(h + 8, 4), timecnt = read_be(h + 12, 4),
                      typecnt = read_be(h + 16, 4), charcnt = read_be(h + 20, 4);
        if (isutcnt < 0 || isstdcnt < 0 || leapcnt < 0 || timecnt < 0 || typecnt <= 0 ||
            charcnt < 0 || timecnt > 100000 || typecnt > 256) {
            return corrupt();
        }
        const int time_size = use_64 ? 8 : 4;
        const std::size_t block =
            static_cast<std::size_t>(timecnt * time_size + timecnt + typecnt * 6 + charcnt +
                                     leapcnt * (time_size + 4) + isstdcnt + isutcnt);
        pos += 44;
        if (bytes.size() < pos + block) return corrupt();
        if (pass == 0 && version >= '2') {
            pos += block;
            use_64 = true;
            continue;
        }
        TimeZone zone;
        zone.name_ = std::string(name);
        const unsigned char* times = &bytes[pos];
        const unsigned char* indices = times + timecnt * time_size;
        const unsigned char* types = indices + timecnt;
        auto type_offset = [&](int64_t index) -> std::optional<int32_t> {
            if (index < 0 || index >= typecnt) return std::nullopt;
            return static_cast<int32_t>(read_be(types + index * 6, 4));
        };
        // The first non-DST type (or type 0) applies before the first transition.
        zone.initial_offset_ = *type_offset(0);
        for (int64_t i = 0; i < timecnt; ++i) {
            std::optional<int32_t> offset = type_offset(indices[i]);
            if (!offset) return corrupt();
            zone.transitions_.push_back(read_be(times + i * time_size, time_size));
            zone.offsets_.push_back(*offset);
        }
        return zone;
    }
    return corrupt();
}

int32_t TimeZone::offset_at(int64_t utc_seconds) const {
    auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
    if (it == transitions_.begin()) return initial_offset_;
    return offsets_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

std::vector<int64_t> TimeZone::to_utc(int64_t local_seconds) const {
    // Transitions are far more than a day apart, so the offsets a day before and after are the
    // only candidates.
    std::vector<int64_t> result;
    for (int32_t offset :
         {offset_at(local_seconds - 86400 - 50400), offset_at(local_seconds + 86400 + 50400)}) {
        const int64_t utc = local_seconds - offset;
        if (offset_at(utc) == offset &&
            std::find(result.begin(), result.end(), utc) == result.end()) {
            result.push_back(utc);
        }
    }
    std::sort(result.begin(), result.end());
    return result;
}

}  // namespace millrace
