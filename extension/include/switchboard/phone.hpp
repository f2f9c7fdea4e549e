// Phone numbers: parse any human or provider spelling into E.164, with
// libphonenumber's answers.  Pure C++ (no Postgres), used by the SQL functions
// in src/pg/phone_functions.cpp, the unit tests and the fuzz target.
#pragma once

#include <cstdint>
#include <string_view>

namespace switchboard::phone {

// Why a spelling is not a phone number.  Parse errors first, then the
// IsPossibleNumber reasons, as libphonenumber reports them.
enum class Failure : uint8_t {
    none,
    unknown_region,        // the default region is not an ISO code libphonenumber knows
    not_a_number,          // nothing that looks like a phone number
    invalid_country_code,  // no or an unassigned country calling code
    too_short_after_idd,   // an international prefix followed by too few digits
    too_short,             // national number too short
    too_long,              // national number too long
    invalid_length,        // a length between the possible ones
};

// The reason in a word or two ("too short", ...).
const char *describe(Failure failure);

// The errdetail sentence for a failure ("The number is too short.").
const char *explain(Failure failure);

// "+", up to 3 country-code digits and up to 17 national digits, NUL-terminated.
struct E164 {
    char text[24];
    uint8_t length;
    std::string_view view() const { return {text, length}; }
};

// A default region as given by a caller: NULL/empty means none (only numbers
// written with their country code parse); otherwise an ISO 3166-1 alpha-2 code,
// case-insensitive.
struct Region {
    char code[3];     // upper-cased, "ZZ" for none
    bool valid;       // false for an unknown code
};
Region parse_region(const char *data, size_t length, bool is_null);

// Number types, libphonenumber's, spelled as phone_info() returns them.
const char *number_type_name(int type);

struct Info {
    E164 e164;             // valid only when is_possible
    int country_code;
    char region[4];        // ISO code, "001" for non-geographic, "" when unknown
    const char *number_type;
    bool is_possible;
    bool is_valid;
};

// Parse + IsPossibleNumber + Format(E164).  Returns Failure::none and fills out.
Failure normalize(std::string_view raw, const Region &region, E164 &out);

// Whether `text` is in the E.164 form normalize() writes: '+', a digit 1-9,
// then 2 to 19 more digits (the form only: is_valid() checks the number).  The
// same as the e164 domain's regular expression ^\+[1-9][0-9]{2,19}$.
bool is_e164(std::string_view text);

// libphonenumber's IsValidNumber; false when the spelling does not parse.
bool is_valid(std::string_view raw, const Region &region);

// Everything phone_info() reports.  Fails only when the spelling does not parse.
Failure info(std::string_view raw, const Region &region, Info &out);

// The straightforward path: libphonenumber Parse, IsPossibleNumber, Format for
// every call.  The oracle for tests, and the fallback of normalize().
Failure normalize_reference(std::string_view raw, const Region &region, E164 &out);

}  // namespace switchboard::phone
