-- Phone-number rules: SQLSTATEs, NULL handling, volatility, and no crash on any
-- argument (pgRouting's no_crash_test, per function).
begin;
select plan(31);
set local search_path = switchboard, public;

select is(normalize_phone('(201) 555-0123', 'US'), '+12015550123', 'national US spelling');
select is(normalize_phone('(201) 555-0123', 'us'), '+12015550123', 'region is case-insensitive');
select is(normalize_phone('+44 7400 123456'), '+447400123456', 'no region: +CC spelling parses');
select throws_ok($$select switchboard.normalize_phone('2015550123')$$, '22023',
                 'invalid phone number "2015550123"', 'no region: national spelling is refused');
select throws_ok($$select switchboard.normalize_phone('12', 'US')$$, '22023',
                 'invalid phone number "12"', 'too short is 22023');
select throws_ok($$select switchboard.normalize_phone('1', 'ZZ')$$, '22023',
                 'unknown region "ZZ"', 'ZZ is not a region');
select throws_ok($$select switchboard.normalize_phone('1', 'xx')$$, '22023',
                 'unknown region "xx"', 'unknown region names the value as given');
select is(try_normalize_phone('12', 'US'), null, 'try_ gives NULL for a bad number');
select is(try_normalize_phone('12', 'XX'), null, 'try_ gives NULL for an unknown region');
select is(phone_is_valid('+12005550123'), false, 'possible but unassigned is not valid');
select is(phone_is_valid('garbage'), false, 'unparsable is false, not an error');
select is((phone_info('+447400123456')).number_type, 'mobile', 'phone_info type');
select is((phone_info('+447400123456')).region, 'GB', 'phone_info region');

-- IMMUTABLE and PARALLEL SAFE, as index expressions and parallel plans need
select is(provolatile::text, 'i', p.proname || ' is immutable')
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'switchboard'
   and p.proname in ('normalize_phone', 'try_normalize_phone', 'phone_is_valid', 'phone_info')
 order by p.proname;
select is(proparallel::text, 's', p.proname || ' is parallel safe')
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'switchboard'
   and p.proname in ('normalize_phone', 'try_normalize_phone', 'phone_is_valid', 'phone_info')
 order by p.proname;

-- an expression index on normalize_phone works
create temp table raw_numbers (raw text);
insert into raw_numbers values ('(201) 555-0123'), ('201.555.0123');
create index on raw_numbers (switchboard.try_normalize_phone(raw, 'US'));
select is((select count(*)::int from raw_numbers where switchboard.try_normalize_phone(raw, 'US') = '+12015550123'),
          2, 'expression index on try_normalize_phone');

-- no crash: every function with NULLs, blanks and junk in every argument
select lives_ok($$select switchboard.normalize_phone(null, null), switchboard.try_normalize_phone(null, null),
                         switchboard.phone_is_valid(null, null), switchboard.phone_info(null, null)$$,
                'NULL arguments');
select lives_ok($$select switchboard.try_normalize_phone(x, r), switchboard.phone_is_valid(x, r)
                  from unnest(array['', ' ', '+', '++1', 'tel:', '#', '*', E'\t', '(((', '0', '00', '011',
                                    repeat('1', 300), repeat('+1', 200), 'ext. 5', '+1 ext 5']) x,
                       unnest(array[null, '', 'US', 'GB', 'DE', 'IT', 'AR', 'MX', 'BR', 'ZZ', 'x']) r$$,
                'junk in every argument');
select throws_ok($$select switchboard.phone_info('', 'US')$$, '22023', null, 'phone_info of empty is 22023');
select is(normalize_phone(null, 'XX'), null, 'NULL number with a bad region is NULL');

-- is_e164 (0.10.0): the e164 domain's rule, as a C function for the tables' checks
select is((select count(*)::int from (values ('+12015550123'), ('+123'), ('+12'), ('+0123456'), ('12015550123'),
                                             ('+1 2015550123'), ('+1201555012x'), (''), ('+'), ('++1234'),
                                             ('+1' || repeat('0', 19)), ('+1' || repeat('0', 20)),
                                             (E'+1201\n5550123'), ('+١٢٠١٥٥٥٠١٢٣'), ('+12015550123 ')) v(t)
            where switchboard.is_e164(t) is distinct from (t ~ '^\+[1-9][0-9]{2,19}$')), 0,
          'is_e164 agrees with the e164 domain''s expression on edge cases');
select is(is_e164('+1' || repeat('0', 19)), true, 'is_e164: 20 digits is the longest');
select is(is_e164(null), null, 'is_e164(NULL) is NULL (the checks let a NULL through to NOT NULL)');
-- the checks hold where the normalizing trigger does not run
set local session_replication_role = replica;
select throws_ok($$insert into switchboard.contacts (agent_id, phone)
                   values ('ac0c0000-0000-4000-8000-0000000000e1', '(201) 555-0123')$$, '23514',
                 'new row for relation "contacts" violates check constraint "contacts_phone_check"',
                 'contacts_phone_check refuses a raw spelling the trigger did not normalize');
select throws_ok($$insert into switchboard.blocked_numbers (agent_id, phone)
                   values ('ac0c0000-0000-4000-8000-0000000000e1', '+0123')$$, '23514',
                 'new row for relation "blocked_numbers" violates check constraint "blocked_numbers_phone_check"',
                 'blocked_numbers_phone_check refuses what is not E.164');
reset session_replication_role;

select * from finish();
rollback;
