// SQL entry points for phone numbers: one C function per SQL function, named after it.
#include "switchboard/pg_guard.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
}

#include "switchboard/error.hpp"
#include "switchboard/phone.hpp"

#include <string>

namespace phone = switchboard::phone;

namespace {

// A raw spelling as the core sees it: the text datum's bytes, not copied.
std::string_view raw_arg(FunctionCallInfo fcinfo, int n)
{
    text *raw = PG_GETARG_TEXT_PP(n);
    return {VARDATA_ANY(raw), VARSIZE_ANY_EXHDR(raw)};
}

phone::Region region_arg(FunctionCallInfo fcinfo, int n)
{
    if (PG_NARGS() <= n || PG_ARGISNULL(n))
        return phone::parse_region(nullptr, 0, true);
    text *region = PG_GETARG_TEXT_PP(n);
    return phone::parse_region(VARDATA_ANY(region), VARSIZE_ANY_EXHDR(region), false);
}

using switchboard::shown;

[[noreturn]] void throw_unknown_region(FunctionCallInfo fcinfo, int n)
{
    text *region = PG_GETARG_TEXT_PP(n);
    std::string_view value{VARDATA_ANY(region), VARSIZE_ANY_EXHDR(region)};
    throw switchboard::Error(switchboard::sqlstate::invalid_parameter_value,
                             "unknown region \"" + shown(value) + "\"", {},
                             "A region is an ISO 3166-1 alpha-2 code such as US or GB.");
}

[[noreturn]] void throw_invalid_phone(std::string_view raw, phone::Failure failure)
{
    throw switchboard::Error(switchboard::sqlstate::invalid_parameter_value,
                             "invalid phone number \"" + shown(raw) + "\"",
                             phone::explain(failure));
}

Datum e164_datum(const phone::E164 &e164)
{
    return PointerGetDatum(cstring_to_text_with_len(e164.text, e164.length));
}

}  // namespace

// normalize_phone(raw text, default_region text) -> the E.164 spelling, or ERROR 22023
SB_FUNCTION(normalize_phone)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    std::string_view raw = raw_arg(fcinfo, 0);
    phone::Region region = region_arg(fcinfo, 1);
    if (!region.valid)
        throw_unknown_region(fcinfo, 1);
    phone::E164 e164;
    phone::Failure failure = phone::normalize(raw, region, e164);
    if (failure != phone::Failure::none)
        throw_invalid_phone(raw, failure);
    return e164_datum(e164);
}

// try_normalize_phone(raw text, default_region text) -> E.164, or NULL where normalize_phone fails
SB_FUNCTION(try_normalize_phone)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    phone::Region region = region_arg(fcinfo, 1);
    if (!region.valid)
        PG_RETURN_NULL();
    phone::E164 e164;
    if (phone::normalize(raw_arg(fcinfo, 0), region, e164) != phone::Failure::none)
        PG_RETURN_NULL();
    return e164_datum(e164);
}

// is_e164(text) -> whether the text is in E.164 form (+, then 3 to 20 digits,
// the first not 0): the checks on stored numbers (0.10.0)
SB_FUNCTION(is_e164)
{
    PG_RETURN_BOOL(phone::is_e164(raw_arg(fcinfo, 0)));
}

// phone_is_valid(raw text, default_region text) -> libphonenumber's IsValidNumber
SB_FUNCTION(phone_is_valid)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    phone::Region region = region_arg(fcinfo, 1);
    PG_RETURN_BOOL(region.valid && phone::is_valid(raw_arg(fcinfo, 0), region));
}

// phone_info(raw text, default_region text) -> (e164, country_code, region, number_type,
// is_possible, is_valid); ERROR 22023 when the spelling does not parse
SB_FUNCTION(phone_info)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    TupleDesc tupdesc;
    if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
        elog(ERROR, "phone_info must return a composite type");
    tupdesc = BlessTupleDesc(tupdesc);

    std::string_view raw = raw_arg(fcinfo, 0);
    phone::Region region = region_arg(fcinfo, 1);
    if (!region.valid)
        throw_unknown_region(fcinfo, 1);
    phone::Info info;
    phone::Failure failure = phone::info(raw, region, info);
    if (failure != phone::Failure::none)
        throw_invalid_phone(raw, failure);

    Datum values[6];
    bool nulls[6] = {false, false, false, false, false, false};
    if (info.is_possible)
        values[0] = e164_datum(info.e164);
    else
        nulls[0] = true;
    values[1] = Int32GetDatum(info.country_code);
    if (info.region[0] != '\0')
        values[2] = CStringGetTextDatum(info.region);
    else
        nulls[2] = true;
    values[3] = CStringGetTextDatum(info.number_type);
    values[4] = BoolGetDatum(info.is_possible);
    values[5] = BoolGetDatum(info.is_valid);
    return HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls));
}
