// Bench-only: libphonenumber per row, the straightforward way (Parse,
// IsPossibleNumber, Format(E164), std::string each call).  Same answers as
// switchboard.try_normalize_phone: NULL where it is not a possible number.
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <set>
#include <string>

// Postgres after the C++ headers (its macros break abseil's).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(naive_phone_normalize);
Datum naive_phone_normalize(PG_FUNCTION_ARGS);
}

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Fills out (NUL-terminated) and returns its length, or -1.
int normalize(const char *data, size_t size, const char *region_data, size_t region_size, bool has_region,
              char *out, size_t out_size)
{
    const PhoneNumberUtil *util = PhoneNumberUtil::GetInstance();
    std::string region = "ZZ";
    if (has_region) {
        std::string r(region_data, region_size);
        while (!r.empty() && (r.front() == ' ' || r.front() == '\t'))
            r.erase(0, 1);
        while (!r.empty() && (r.back() == ' ' || r.back() == '\t'))
            r.pop_back();
        if (!r.empty()) {
            for (char &c : r)
                if (c >= 'a' && c <= 'z')
                    c = static_cast<char>(c - 'a' + 'A');
            std::set<std::string> supported;
            util->GetSupportedRegions(&supported);
            if (!supported.count(r))
                return -1;
            region = r;
        }
    }
    std::string input(data, size);
    while (!input.empty() && blank(input.front()))
        input.erase(0, 1);
    while (!input.empty() && blank(input.back()))
        input.pop_back();
    if (input.size() > 250)
        return -1;
    PhoneNumber number;
    if (util->Parse(input, region, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
        return -1;
    if (!util->IsPossibleNumber(number))
        return -1;
    std::string formatted;
    util->Format(number, PhoneNumberUtil::E164, &formatted);
    if (formatted.size() >= out_size)
        return -1;
    formatted.copy(out, formatted.size());
    out[formatted.size()] = '\0';
    return static_cast<int>(formatted.size());
}

}  // namespace

// naive_phone_normalize(raw text, region text) -> E.164 or NULL
Datum naive_phone_normalize(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    text *raw = PG_GETARG_TEXT_PP(0);
    bool has_region = PG_NARGS() > 1 && !PG_ARGISNULL(1);
    text *region = has_region ? PG_GETARG_TEXT_PP(1) : nullptr;
    char out[32];
    int n = -1;
    try {
        n = normalize(VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw), region ? VARDATA_ANY(region) : nullptr,
                      region ? VARSIZE_ANY_EXHDR(region) : 0, has_region, out, sizeof out);
    } catch (...) {
        n = -1;
    }
    if (n < 0)
        PG_RETURN_NULL();
    PG_RETURN_TEXT_P(cstring_to_text_with_len(out, n));
}
