-- Every row of ../shared/corpus/phones_dev.tsv (libphonenumber 8.12.57's answers):
-- normalize_phone, try_normalize_phone and phone_is_valid must agree on all of them.
set search_path = switchboard, public;
\getenv corpus SWITCHBOARD_CORPUS
create temp table corpus (input text, region text, expected text, is_valid boolean);
copy corpus from :'corpus' with (format text);

-- normalize_phone raises where the corpus says INVALID; catch it per row
create function pg_temp.normalize_or_invalid(raw text, region text) returns text
language plpgsql as $$
begin
    return switchboard.normalize_phone(raw, region);
exception when invalid_parameter_value then
    return 'INVALID';
end $$;

select count(*) as cases,
       count(*) filter (where pg_temp.normalize_or_invalid(input, nullif(region, '')) = expected)
           as normalize_agrees,
       count(*) filter (where coalesce(try_normalize_phone(input, nullif(region, '')), 'INVALID') = expected)
           as try_normalize_agrees,
       count(*) filter (where phone_is_valid(input, nullif(region, '')) = is_valid)
           as is_valid_agrees,
       count(distinct region) filter (where region <> '') as regions
from corpus;

-- the disagreements, if any (none expected)
select input, region, expected, try_normalize_phone(input, nullif(region, '')) as got
from corpus
where coalesce(try_normalize_phone(input, nullif(region, '')), 'INVALID') <> expected
   or phone_is_valid(input, nullif(region, '')) <> is_valid
limit 20;

-- every E.164 answer fits the e164 domain
select count(*) as fits_domain
from corpus where expected <> 'INVALID' and expected::switchboard.e164 is not null;
