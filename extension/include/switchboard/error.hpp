// The one exception type the C++ core throws for user-facing errors.  It carries
// a SQLSTATE, so the boundary guard (pg_guard.hpp) can raise it with the right
// errcode once the C++ frames are gone.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace switchboard {

// SQLSTATEs the core uses (five characters, as in the Postgres docs).
namespace sqlstate {
inline constexpr char invalid_parameter_value[] = "22023";
inline constexpr char check_violation[] = "23514";
inline constexpr char no_data_found[] = "P0002";
inline constexpr char insufficient_privilege[] = "42501";
inline constexpr char internal_error[] = "XX000";
}  // namespace sqlstate

class Error : public std::exception {
public:
    Error(const char *sqlstate, std::string message, std::string detail = {},
          std::string hint = {})
        : message_(std::move(message)), detail_(std::move(detail)), hint_(std::move(hint))
    {
        for (int i = 0; i < 5; i++)
            sqlstate_[i] = sqlstate[i];
        sqlstate_[5] = '\0';
    }

    const char *what() const noexcept override { return message_.c_str(); }
    const char *sqlstate() const noexcept { return sqlstate_; }
    const std::string &detail() const noexcept { return detail_; }
    const std::string &hint() const noexcept { return hint_; }

private:
    char sqlstate_[6];
    std::string message_;
    std::string detail_;
    std::string hint_;
};

// A value as an error message quotes it: at most 100 bytes, cut at a UTF-8
// character boundary, with "..." when cut.
inline std::string shown(std::string_view value)
{
    const size_t max = 100;
    if (value.size() <= max)
        return std::string(value);
    size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80)
        n--;
    return std::string(value.substr(0, n)) + "...";
}

}  // namespace switchboard
