// Values of the client API: Uuid, timestamps, enums, the exception hierarchy.
#include <switchboard/client.hpp>

#include <cstdio>

namespace switchboard {

// --- Uuid ---------------------------------------------------------------------

namespace {
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<Uuid> Uuid::try_parse(std::string_view s) noexcept {
    // Postgres's rule: optional braces; 32 hex digits; a hyphen may follow any
    // group of four digits (not at the end, never two in a row).
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
    Uuid u;
    std::size_t digits = 0;
    bool last_hyphen = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '-') {
            if (digits == 0 || digits % 4 != 0 || last_hyphen || i + 1 == s.size()) return std::nullopt;
            last_hyphen = true;
            continue;
        }
        int v = hex_value(c);
        if (v < 0 || digits >= 32) return std::nullopt;
        if (digits % 2 == 0)
            u.bytes[digits / 2] = static_cast<std::uint8_t>(v << 4);
        else
            u.bytes[digits / 2] = static_cast<std::uint8_t>(u.bytes[digits / 2] | v);
        ++digits;
        last_hyphen = false;
    }
    if (digits != 32) return std::nullopt;
    return u;
}

Uuid Uuid::parse(std::string_view s) {
    if (auto u = try_parse(s)) return *u;
    throw std::invalid_argument("invalid uuid \"" + std::string(s.substr(0, 100)) + "\"");
}

std::string Uuid::str() const {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(hex[bytes[i] >> 4]);
        out.push_back(hex[bytes[i] & 0xf]);
    }
    return out;
}

bool Uuid::is_nil() const noexcept {
    for (auto b : bytes)
        if (b) return false;
    return true;
}

// --- timestamps -------------------------------------------------------------------

namespace {
// Howard Hinnant's days_from_civil / civil_from_days.
long long days_from_civil(long long y, unsigned m, unsigned d) noexcept {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

void civil_from_days(long long z, long long &y, unsigned &m, unsigned &d) noexcept {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<long long>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

bool take_digits(std::string_view &s, std::size_t n, int &out) noexcept {
    if (s.size() < n) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    s.remove_prefix(n);
    return true;
}

bool take_char(std::string_view &s, char c) noexcept {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}
}  // namespace

// --- dates --------------------------------------------------------------------------

std::optional<Date> Date::try_parse(std::string_view s) noexcept {
    int y, m, d;
    if (!take_digits(s, 4, y) || !take_char(s, '-') || !take_digits(s, 2, m) || !take_char(s, '-') ||
        !take_digits(s, 2, d) || !s.empty())
        return std::nullopt;
    if (m < 1 || m > 12 || d < 1) return std::nullopt;
    Date out{y, static_cast<unsigned>(m), static_cast<unsigned>(d)};
    if (from_days_since_epoch(out.days_since_epoch()) != out) return std::nullopt;  // 2026-02-30
    return out;
}

Date Date::parse(std::string_view s) {
    auto d = try_parse(s);
    if (!d) throw std::invalid_argument("invalid date \"" + std::string(s) + "\" (expected YYYY-MM-DD)");
    return *d;
}

long long Date::days_since_epoch() const noexcept { return days_from_civil(year, month, day); }

Date Date::from_days_since_epoch(long long days) noexcept {
    long long y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    return Date{static_cast<int>(y), m, d};
}

Date Date::from_timestamp(Timestamp t) noexcept {
    long long us = t.time_since_epoch().count();
    long long days = us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL);
    return from_days_since_epoch(days);
}

std::string Date::str() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
    return buf;
}

std::string format_timestamp(Timestamp t) {
    using namespace std::chrono;
    long long us = t.time_since_epoch().count();
    long long days = us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL);
    long long rem = us - days * 86400000000LL;
    long long y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    long long secs = rem / 1000000, frac = rem % 1000000;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%06lldZ", y, m, d, secs / 3600,
                  (secs / 60) % 60, secs % 60, frac);
    return buf;
}

std::optional<Timestamp> parse_timestamp(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    int y, mo, d, h = 0, mi = 0, sec = 0;
    long long frac_us = 0;
    if (!take_digits(s, 4, y) || !take_char(s, '-') || !take_digits(s, 2, mo) || !take_char(s, '-') ||
        !take_digits(s, 2, d))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
    long long offset_s = 0;
    if (!s.empty()) {
        if (!take_char(s, 'T') && !take_char(s, 't') && !take_char(s, ' ')) return std::nullopt;
        if (!take_digits(s, 2, h) || !take_char(s, ':') || !take_digits(s, 2, mi)) return std::nullopt;
        if (take_char(s, ':')) {
            if (!take_digits(s, 2, sec)) return std::nullopt;
            if (take_char(s, '.')) {
                int n = 0;
                while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
                    if (n < 6) frac_us = frac_us * 10 + (s.front() - '0');
                    ++n;
                    s.remove_prefix(1);
                }
                if (n == 0) return std::nullopt;
                for (int i = n; i < 6; ++i) frac_us *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
        if (take_char(s, 'Z') || take_char(s, 'z')) {
        } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
            int sign = s.front() == '-' ? -1 : 1;
            s.remove_prefix(1);
            int oh, om = 0;
            if (!take_digits(s, 2, oh)) return std::nullopt;
            if (take_char(s, ':')) {
                if (!take_digits(s, 2, om)) return std::nullopt;
            } else if (s.size() == 2) {
                if (!take_digits(s, 2, om)) return std::nullopt;
            }
            if (oh > 15 || om > 59) return std::nullopt;
            offset_s = sign * (oh * 3600LL + om * 60LL);
        }
        if (!s.empty()) return std::nullopt;
    }
    long long days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    long long secs = days * 86400 + h * 3600LL + mi * 60LL + sec - offset_s;
    return Timestamp(std::chrono::microseconds(secs * 1000000LL + frac_us));
}

// --- enums ------------------------------------------------------------------------

std::string_view to_string(Decision d) noexcept {
    switch (d) {
        case Decision::accepted: return "accepted";
        case Decision::blocked: return "blocked";
        case Decision::disabled: return "disabled";
        case Decision::rate_limited: return "rate_limited";
        case Decision::daily_limit: return "daily_limit";
        case Decision::quota_exceeded: return "quota_exceeded";
    }
    return "?";
}

std::optional<Decision> parse_decision(std::string_view t) noexcept {
    for (auto d : {Decision::accepted, Decision::blocked, Decision::disabled, Decision::rate_limited,
                   Decision::daily_limit, Decision::quota_exceeded})
        if (to_string(d) == t) return d;
    return std::nullopt;
}

std::string_view to_string(CallStatus s) noexcept {
    switch (s) {
        case CallStatus::ringing: return "ringing";
        case CallStatus::in_progress: return "in_progress";
        case CallStatus::completed: return "completed";
        case CallStatus::failed: return "failed";
        case CallStatus::busy: return "busy";
        case CallStatus::no_answer: return "no_answer";
        case CallStatus::canceled: return "canceled";
    }
    return "?";
}

std::optional<CallStatus> parse_call_status(std::string_view t) noexcept {
    for (auto s : {CallStatus::ringing, CallStatus::in_progress, CallStatus::completed, CallStatus::failed,
                   CallStatus::busy, CallStatus::no_answer, CallStatus::canceled})
        if (to_string(s) == t) return s;
    return std::nullopt;
}

// --- errors -----------------------------------------------------------------------

namespace {
std::string what_text(const std::string &sqlstate, const std::string &message, const std::string &detail) {
    std::string w = message;
    if (!detail.empty()) w += ": " + detail;
    if (!sqlstate.empty()) w += " (SQLSTATE " + sqlstate + ")";
    return w;
}
}  // namespace

Error::Error(std::string sqlstate, std::string message, std::string detail, std::string hint)
    : std::runtime_error(what_text(sqlstate, message, detail)),
      sqlstate_(std::move(sqlstate)),
      message_(std::move(message)),
      detail_(std::move(detail)),
      hint_(std::move(hint)) {}

ConnectionError::ConnectionError(std::string message, bool may_have_committed, std::string sqlstate)
    : Error(std::move(sqlstate), std::move(message)), may_have_committed_(may_have_committed) {}

void throw_error(const std::string &sqlstate, const std::string &message, const std::string &detail,
                 const std::string &hint) {
    if (sqlstate == "22023") throw InvalidPhone(sqlstate, message, detail, hint);
    if (sqlstate == "P0002") throw UnknownAgent(sqlstate, message, detail, hint);
    if (sqlstate == "23514") throw RuleViolation(sqlstate, message, detail, hint);
    if (sqlstate == "42501") throw PermissionDenied(sqlstate, message, detail, hint);
    if (sqlstate.compare(0, 2, "08") == 0) throw ConnectionError(message, false, sqlstate);
    throw Error(sqlstate, message, detail, hint);
}

}  // namespace switchboard
