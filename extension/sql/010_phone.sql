-- Phone numbers --------------------------------------------------------------
--
-- The C functions below run no SQL and resolve no names, so they carry no
-- SET search_path: the clause would make every call save and restore a GUC,
-- several times the cost of the function itself.

CREATE DOMAIN switchboard.e164 AS text
    CHECK (VALUE ~ '^\+[1-9][0-9]{2,19}$');
COMMENT ON DOMAIN switchboard.e164 IS
    'a phone number in the E.164 form normalize_phone returns: +, country code, national number (up to 20 digits, as libphonenumber allows)';

-- The checks on the tables' number columns that a BEFORE trigger normalizes
-- (a domain would check the raw spelling before the trigger runs): a C
-- function, not the domain's regular expression, because Postgres parses and
-- plans a table's CHECK expressions again in every statement that writes a row
-- of it, and the event path updates contacts on every accepted message (0.10.0).
CREATE FUNCTION switchboard.is_e164(text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'is_e164'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.is_e164(text) IS
    'whether the text is in the E.164 form normalize_phone returns (+, then 3 to 20 digits, the first not 0), as the e164 domain checks; the form only, phone_is_valid checks the number';

CREATE FUNCTION switchboard.normalize_phone(raw text, default_region text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'normalize_phone'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.normalize_phone(text, text) IS
    'the E.164 spelling of a phone number written any way, with an optional default region; ERROR 22023 when it is not a possible number';

CREATE FUNCTION switchboard.try_normalize_phone(raw text, default_region text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'try_normalize_phone'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.try_normalize_phone(text, text) IS
    'normalize_phone, but NULL instead of an error';

CREATE FUNCTION switchboard.phone_is_valid(raw text, default_region text DEFAULT NULL)
RETURNS boolean
AS 'MODULE_PATHNAME', 'phone_is_valid'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.phone_is_valid(text, text) IS
    'whether the number is a valid assigned number (libphonenumber IsValidNumber); false when it does not parse';

CREATE FUNCTION switchboard.phone_info(
    raw text, default_region text DEFAULT NULL,
    OUT e164 text, OUT country_code integer, OUT region text, OUT number_type text,
    OUT is_possible boolean, OUT is_valid boolean)
RETURNS record
AS 'MODULE_PATHNAME', 'phone_info'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION switchboard.phone_info(text, text) IS
    'what libphonenumber knows of a number: E.164 form, country code, region, type, possible, valid';

-- Internal: proves the C++/Postgres boundary guard in the regression tests.
CREATE FUNCTION switchboard.guard_selftest(kind text)
RETURNS integer
AS 'MODULE_PATHNAME', 'guard_selftest'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION switchboard.guard_selftest(text) IS
    'internal: raises an error of the given kind deep in C++ to test the boundary guard';
REVOKE ALL ON FUNCTION switchboard.guard_selftest(text) FROM PUBLIC;
