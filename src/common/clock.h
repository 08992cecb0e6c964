#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace millrace {

/// Wall-clock time, injected wherever a service reads the time (logger, metrics, scheduler) so
/// tests can control it. Time is microseconds since 1970-01-01T00:00:00Z. Implementations are
/// safe to call from any thread. The composition root (cli/) owns the one SystemClock and passes
/// it down by reference; it must outlive every user.
class Clock {
public:
    virtual ~Clock() = default;
    virtual int64_t now_micros() const = 0;
};

/// The operating system's real-time clock (CLOCK_REALTIME). Stateless.
class SystemClock final : public Clock {
public:
    int64_t now_micros() const override;
};

/// A clock that moves only when told to. For tests; thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(int64_t start_micros = 0) : now_(start_micros) {}

    int64_t now_micros() const override { return now_.load(std::memory_order_relaxed); }
    void set_micros(int64_t micros) { now_.store(micros, std::memory_order_relaxed); }
    void advance_micros(int64_t delta) { now_.fetch_add(delta, std::memory_order_relaxed); }

private:
    std::atomic<int64_t> now_;
};

/// Appends an RFC 3339 UTC timestamp with exactly six fraction digits,
/// "2026-11-23T18:56:21.123456Z": fixed width, so log lines line up and sort as text.
/// Works for the whole int64 range (years beyond 9999 get more digits).
void append_utc_timestamp(std::string& out, int64_t micros);
std::string format_utc_timestamp(int64_t micros);

}  // namespace millrace
