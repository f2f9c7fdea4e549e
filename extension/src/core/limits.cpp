// The event path's decision arithmetic.  See limits.hpp.
#include "switchboard/cpp_only.hpp"
#include "switchboard/limits.hpp"

#include <algorithm>

namespace switchboard::limits {

namespace {

// Number of entries of the sorted log in (lo, hi].
int count_in(const int64_t *t, int n, int64_t lo, int64_t hi)
{
    const int64_t *b = std::upper_bound(t, t + n, lo);
    const int64_t *e = std::upper_bound(t, t + n, hi);
    return static_cast<int>(e - b);
}

// Whether a message at x fits: the hour ending at x holds fewer than `limit`
// others, and every hour ending at a later entry (within an hour of x) keeps at
// most `limit` messages with x added.
bool fits(const int64_t *t, int n, int64_t x, int limit)
{
    if (count_in(t, n, x - hour_us, x) >= limit)
        return false;
    for (const int64_t *p = std::upper_bound(t, t + n, x); p < t + n && *p < x + hour_us; p++)
        if (count_in(t, n, *p - hour_us, *p) + 1 > limit)
            return false;
    return true;
}

}  // namespace

void sort_log(int64_t *times, int n)
{
    if (n > 1 && !std::is_sorted(times, times + n))
        std::sort(times, times + n);
}

RateDecision evaluate(const int64_t *t, int n, int64_t at, int limit)
{
    RateDecision d{true, 0, 0};
    if (limit < 1)
        limit = 1;
    if (fits(t, n, at, limit)) {
        d.remaining = std::max(0, limit - count_in(t, n, at - hour_us, at) - 1);
        return d;
    }
    d.accepted = false;
    // The earliest moment a message fits is `at` or one where an entry leaves
    // an hour (t_i + 1h; hours are open on the left).  After the last of
    // those the log is empty for that moment's hour, so the loop always ends.
    int64_t best = -1;
    for (int i = 0; i < n; i++) {
        int64_t x = t[i] + hour_us;
        if (x <= at || (best >= 0 && x >= best))
            continue;
        if (fits(t, n, x, limit))
            best = x;
    }
    if (best < 0)  // unreachable for a consistent log; be safe
        best = (n > 0 ? t[n - 1] : at) + hour_us;
    d.retry_after_us = best - at;
    return d;
}

int admit(const int64_t *times, int n, int64_t at, int64_t *out)
{
    int64_t buf[max_window + 1];
    if (n > max_window) {  // keep the newest
        times += n - max_window;
        n = max_window;
    }
    std::copy(times, times + n, buf);
    sort_log(buf, n);
    int64_t *pos = std::upper_bound(buf, buf + n, at);
    std::copy_backward(pos, buf + n, buf + n + 1);
    *pos = at;
    n++;
    int64_t cutoff = buf[n - 1] - hour_us - retention_slack_us;
    int first = static_cast<int>(std::upper_bound(buf, buf + n, cutoff) - buf);
    if (n - first > max_window)
        first = n - max_window;
    std::copy(buf + first, buf + n, out);
    return n - first;
}

bool session_expired(bool has_last, int64_t last, int64_t at, int timeout_minutes)
{
    if (!has_last)
        return true;
    return at - last > static_cast<int64_t>(timeout_minutes) * minute_us;
}

}  // namespace switchboard::limits
