// The event path's decision arithmetic: the hourly sliding log, retry_after,
// remaining, session rollover.  Pure C++ (no Postgres): times are Postgres
// TimestampTz values, microseconds since 2000-01-01 UTC, as plain int64.
#pragma once

#include <cstdint>

namespace switchboard::limits {

inline constexpr int64_t minute_us = 60LL * 1000000;
inline constexpr int64_t hour_us = 60 * minute_us;

// The most timestamps a conversation's rate_window keeps (rate_limit_per_hour <= 100).
inline constexpr int max_window = 100;

// How far beyond the hour before its newest entry the log keeps entries, so a
// message arriving slightly out of order (concurrent now()s) is still judged
// against everything that shares an hour with it.
inline constexpr int64_t retention_slack_us = 5 * minute_us;

struct RateDecision {
    bool accepted;
    int64_t retry_after_us;  // when !accepted: from `at` until a message would be accepted
    int remaining;           // accepted messages left in the hour ending at `at`, after this one
};

// The hourly limit, exact: a message at `at` is accepted iff, with it added,
// every hour (s - 1h, s] that ends at an accepted message (it or a later one,
// when it arrives out of order) holds at most `limit` accepted messages.  For
// messages in order that is: fewer than `limit` accepted in (at - 1h, at].
// `times` is the log, sorted ascending, n <= max_window.
RateDecision evaluate(const int64_t *times, int n, int64_t at, int limit);

// The log after accepting a message at `at`: `at` inserted in order, entries
// older than (newest - 1h - retention_slack) dropped, at most max_window newest
// kept.  `out` has room for max_window entries; returns their number.
// `times` may be unsorted (a log written by hand): it is sorted first.
int admit(const int64_t *times, int n, int64_t at, int64_t *out);

// Sorts a log in place (ascending).  Logs written by switchboard are already sorted.
void sort_log(int64_t *times, int n);

// A new session starts when there was no message yet or the last one is more
// than timeout_minutes older than `at`.
bool session_expired(bool has_last, int64_t last_message_at, int64_t at, int timeout_minutes);

}  // namespace switchboard::limits
