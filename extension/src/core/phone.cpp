// Phone-number normalization on top of libphonenumber.  See phone.hpp.
#include "switchboard/cpp_only.hpp"
#include "switchboard/phone.hpp"
#include "switchboard/phone_fast.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

namespace switchboard::phone {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// libphonenumber builds its metadata once per process on first use.
const PhoneNumberUtil &util()
{
    static const PhoneNumberUtil *instance = PhoneNumberUtil::GetInstance();
    return *instance;
}

Failure from_parse_error(PhoneNumberUtil::ErrorType error)
{
    switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR: return Failure::none;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return Failure::invalid_country_code;
    case PhoneNumberUtil::NOT_A_NUMBER: return Failure::not_a_number;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD: return Failure::too_short_after_idd;
    case PhoneNumberUtil::TOO_SHORT_NSN: return Failure::too_short;
    case PhoneNumberUtil::TOO_LONG_NSN: return Failure::too_long;
    }
    return Failure::not_a_number;
}

Failure from_validation(PhoneNumberUtil::ValidationResult result)
{
    switch (result) {
    case PhoneNumberUtil::IS_POSSIBLE:
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY: return Failure::none;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return Failure::invalid_country_code;
    case PhoneNumberUtil::TOO_SHORT: return Failure::too_short;
    case PhoneNumberUtil::INVALID_LENGTH: return Failure::invalid_length;
    case PhoneNumberUtil::TOO_LONG: return Failure::too_long;
    }
    return Failure::invalid_length;
}

// libphonenumber's Java and JavaScript versions refuse longer input as too long;
// its C++ version has no such limit and backtracks for seconds on long digit runs.
constexpr size_t max_input_length = 250;

bool is_ascii_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

Failure parse(std::string_view raw, const Region &region, PhoneNumber &number)
{
    if (!region.valid)
        return Failure::unknown_region;
    // Surrounding blanks never change libphonenumber's answer; count without them.
    while (!raw.empty() && is_ascii_blank(raw.front()))
        raw.remove_prefix(1);
    while (!raw.empty() && is_ascii_blank(raw.back()))
        raw.remove_suffix(1);
    if (raw.size() > max_input_length)
        return Failure::too_long;
    std::string input(raw);
    std::string code(region.code, 2);
    return from_parse_error(util().Parse(input, code, &number));
}

void format_e164(const PhoneNumber &number, E164 &out)
{
    std::string formatted;
    util().Format(number, PhoneNumberUtil::E164, &formatted);
    size_t n = formatted.size() < sizeof out.text - 1 ? formatted.size() : sizeof out.text - 1;
    memcpy(out.text, formatted.data(), n);
    out.text[n] = '\0';
    out.length = static_cast<uint8_t>(n);
}

}  // namespace

const char *describe(Failure failure)
{
    switch (failure) {
    case Failure::none: return "valid";
    case Failure::unknown_region: return "unknown default region";
    case Failure::not_a_number: return "not a number";
    case Failure::invalid_country_code: return "invalid country calling code";
    case Failure::too_short_after_idd: return "too short after the international prefix";
    case Failure::too_short: return "too short";
    case Failure::too_long: return "too long";
    case Failure::invalid_length: return "invalid length for the country";
    }
    return "not a number";
}

const char *explain(Failure failure)
{
    switch (failure) {
    case Failure::none: return "The number is valid.";
    case Failure::unknown_region: return "The default region is not a known ISO 3166-1 code.";
    case Failure::not_a_number: return "The input is not a number.";
    case Failure::invalid_country_code: return "The number has an invalid country calling code.";
    case Failure::too_short_after_idd: return "The number is too short after the international prefix.";
    case Failure::too_short: return "The number is too short.";
    case Failure::too_long: return "The number is too long.";
    case Failure::invalid_length: return "The number has an invalid length for its country.";
    }
    return "The input is not a number.";
}

Region parse_region(const char *data, size_t length, bool is_null)
{
    Region region{{'Z', 'Z', '\0'}, true};
    // Surrounding blanks are forgiven; blank means "no default region".
    while (length > 0 && (data[0] == ' ' || data[0] == '\t')) {
        data++;
        length--;
    }
    while (length > 0 && (data[length - 1] == ' ' || data[length - 1] == '\t'))
        length--;
    if (is_null || length == 0)
        return region;
    if (length != 2) {
        region.valid = false;
        return region;
    }
    for (size_t i = 0; i < 2; i++) {
        char c = data[i];
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        if (c < 'A' || c > 'Z') {
            region.valid = false;
            return region;
        }
        region.code[i] = c;
    }
    // The regions of libphonenumber's metadata (GetSupportedRegions), as a table.
    region.valid = fast::region_supported(region.code[0], region.code[1]);
    return region;
}

const char *number_type_name(int type)
{
    switch (static_cast<PhoneNumberUtil::PhoneNumberType>(type)) {
    case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
    case PhoneNumberUtil::MOBILE: return "mobile";
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return "fixed_line_or_mobile";
    case PhoneNumberUtil::TOLL_FREE: return "toll_free";
    case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
    case PhoneNumberUtil::SHARED_COST: return "shared_cost";
    case PhoneNumberUtil::VOIP: return "voip";
    case PhoneNumberUtil::PERSONAL_NUMBER: return "personal_number";
    case PhoneNumberUtil::PAGER: return "pager";
    case PhoneNumberUtil::UAN: return "uan";
    case PhoneNumberUtil::VOICEMAIL: return "voicemail";
    case PhoneNumberUtil::UNKNOWN: return "unknown";
    }
    return "unknown";
}

Failure normalize_reference(std::string_view raw, const Region &region, E164 &out)
{
    PhoneNumber number;
    Failure failure = parse(raw, region, number);
    if (failure != Failure::none)
        return failure;
    failure = from_validation(util().IsPossibleNumberWithReason(number));
    if (failure != Failure::none)
        return failure;
    format_e164(number, out);
    return Failure::none;
}

Failure normalize(std::string_view raw, const Region &region, E164 &out)
{
    // The first call of a backend builds the fast path's tables and
    // libphonenumber's (for the fallback) at once, so no later row pays for them.
    static const bool ready = (fast::warm_up(), (void) util(), true);
    (void) ready;
    Failure failure;
    if (fast::normalize(raw, region, out, failure) == fast::Verdict::answered)
        return failure;
    return normalize_reference(raw, region, out);
}

bool is_e164(std::string_view text)
{
    if (text.size() < 4 || text.size() > 21 || text[0] != '+' || text[1] < '1' || text[1] > '9')
        return false;
    for (size_t i = 2; i < text.size(); i++)
        if (text[i] < '0' || text[i] > '9')
            return false;
    return true;
}

bool is_valid(std::string_view raw, const Region &region)
{
    PhoneNumber number;
    if (parse(raw, region, number) != Failure::none)
        return false;
    return util().IsValidNumber(number);
}

Failure info(std::string_view raw, const Region &region, Info &out)
{
    PhoneNumber number;
    Failure failure = parse(raw, region, number);
    if (failure != Failure::none)
        return failure;
    out.country_code = number.country_code();
    std::string region_code;
    util().GetRegionCodeForNumber(number, &region_code);
    if (region_code == "ZZ")
        region_code.clear();
    size_t n = region_code.size() < 3 ? region_code.size() : 3;
    memcpy(out.region, region_code.data(), n);
    out.region[n] = '\0';
    out.number_type = number_type_name(util().GetNumberType(number));
    out.is_possible = util().IsPossibleNumber(number);
    out.is_valid = util().IsValidNumber(number);
    out.e164.length = 0;
    out.e164.text[0] = '\0';
    if (out.is_possible)
        format_e164(number, out.e164);
    return Failure::none;
}

}  // namespace switchboard::phone
