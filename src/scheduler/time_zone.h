#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// A time zone of the system's tz database, read from its TZif file under /usr/share/zoneinfo
/// (GCC 12's libstdc++ has no std::chrono::locate_zone). Immutable after load; safe to share
/// between threads.
///
/// Offsets come from the file's transition table (Debian ships "fat" TZif files whose tables
/// run to 2037); after the last transition the last offset holds. The POSIX TZ footer that
/// would extend the rules further is not interpreted.
class TimeZone {
public:
    /// UTC, without touching the file system.
    static TimeZone utc();
    /// "UTC", "Etc/UTC", "Europe/Paris"... Errors: kInvalidArgument for a malformed name,
    /// kNotFound for an unknown zone, kCorruption for a file that is not TZif.
    static Result<TimeZone> load(std::string_view name);

    const std::string& name() const { return name_; }
    /// Seconds east of UTC in effect at `utc_seconds`.
    int32_t offset_at(int64_t utc_seconds) const;
    /// The UTC instants whose local wall time is `local_seconds` (seconds since 1970-01-01
    /// local): none in a spring-forward gap, two in a fall-back overlap (earliest first).
    std::vector<int64_t> to_utc(int64_t local_seconds) const;

private:
    std::string name_;
    std::vector<int64_t> transitions_;  // UTC seconds, ascending
    std::vector<int32_t> offsets_;      // offset in effect from transitions_[i] on
    int32_t initial_offset_ = 0;        // before the first transition
};

}  // namespace millrace
