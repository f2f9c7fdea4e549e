-- Phone numbers: the SQL surface, every error text, and bad input.
set search_path = switchboard, public;

-- national, international, 00/011 prefixes, punctuation, tel: URIs, extensions
select raw, region, normalize_phone(raw, region)
from (values ('(201) 555-0123', 'US'),
             ('201.555.0123', 'us'),
             ('+1 201-555-0123', null),
             ('00 44 7400 123456', 'DE'),
             ('011 44 7400 123456', 'US'),
             ('07400 123456', 'GB'),
             ('tel:+1-201-555-0123', null),
             ('+1 201 555 0123 ext. 42', null),
             ('Phone: +49 30 123456', null),
             (E'\u00a0+33 1 23 45 67 89\u00a0', null),
             (E'\uff0b\uff14\uff14\uff17\uff14\uff10\uff10\uff11\uff12\uff13\uff14\uff15\uff16', null),
             (E'\u0660\u0665\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667', 'AE'),
             ('  +39 06 1234 5678  ', ''),
             ('1-800-FLOWERS', 'US')) as t(raw, region);

-- default region: omitted or NULL means none, so only +CC spellings parse
select normalize_phone('+12015550123') as no_region,
       normalize_phone('+12015550123', null) as null_region;

-- NULL in, NULL out
select normalize_phone(null) is null as n1,
       normalize_phone(null, 'US') is null as n2,
       try_normalize_phone(null) is null as n3,
       phone_is_valid(null) is null as n4,
       phone_info(null) is null as n5;

-- errors: 22023, the value named, the reason in the detail
select normalize_phone('2015550123');
\echo :LAST_ERROR_SQLSTATE
select normalize_phone('12', 'US');
select normalize_phone('', 'US');
select normalize_phone('   ', 'US');
select normalize_phone('+', 'US');
select normalize_phone('hello', 'US');
select normalize_phone('+1 2015550123456789012');
select normalize_phone('+999 123456789');
select normalize_phone('+1 201 555 01', null);
select normalize_phone(E'\x01\x02\x03', 'US');
select normalize_phone('123', 'XX');
\echo :LAST_ERROR_SQLSTATE
select normalize_phone('123', 'USA');
select normalize_phone('+12015550123', '1');
-- a 1 MB string: named in the message, cut to 100 characters
select normalize_phone(repeat('9', 1000000), 'US');
select normalize_phone(repeat('x', 1000000), 'US');

-- try_normalize_phone: NULL instead of each of those errors
select count(*) as cases, count(try_normalize_phone(raw, region)) as not_null
from (values ('2015550123', null), ('12', 'US'), ('', 'US'), ('+', 'US'), ('hello', 'US'),
             ('+1 2015550123456789012', null), ('+999 123456789', null), ('123', 'XX'),
             (repeat('9', 1000000), 'US')) as t(raw, region);
select try_normalize_phone('(201) 555-0123', 'US');

-- phone_is_valid: IsValidNumber, false (not an error) for what does not parse
select raw, region, phone_is_valid(raw, region)
from (values ('+12015550123', null), ('+12005550123', null), ('(201) 555-0123', 'US'),
             ('12', 'US'), ('hello', null), ('', null), ('123', 'XX')) as t(raw, region);

-- is_e164: the E.164 form only (the checks on the tables' number columns)
select t, is_e164(t) from (values ('+12015550123'), ('+123'), ('+12'), ('+0123456'), ('12015550123'),
                                  ('+1 2015550123'), (null)) v(t);

-- usable in a CHECK constraint
create temp table contacts_check (phone text check (phone_is_valid(phone)));
insert into contacts_check values ('+447400123456');
insert into contacts_check values ('+12005550123');

-- phone_info
select * from phone_info('+44 7400 123456');
select * from phone_info('(201) 555-0123', 'US');
select * from phone_info('0800 123 4567', 'GB');
select * from phone_info('+1 201 555 01');
select * from phone_info('+800 1234 5678');
select * from phone_info('hello');

-- the e164 domain accepts what normalize_phone returns and nothing else
select normalize_phone('+49 30 1234567890123')::e164 as long_german;
select '+12015550123'::e164;
select '12015550123'::e164;
select '+012015550123'::e164;
select '+1 201'::e164;
