-- No crash, whatever the arguments (pgRouting's no_crash_test, generated):
-- every switchboard function that is not a trigger is called with plausible
-- values, with NULL in each argument in turn, and with every argument NULL,
-- each call in its own subtransaction.  A crash ends the session and so the
-- file before its plan is done; an error must carry a precise SQLSTATE, never
-- class XX (internal_error: an exception or elog that escaped its guard).
begin;
select plan((select count(*)::int + 2 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'switchboard' and p.prorettype <> 'trigger'::regtype));
set local timezone = 'UTC';

insert into switchboard.agents (agent_id, display_name, sms_enabled)
values ('ac0c0000-0000-4000-8000-000000000001', 'tap no-crash agent', true);
select conversation_id as conv
  from switchboard.record_inbound('ac0c0000-0000-4000-8000-000000000001', '(415) 555-0100', 'hello') \gset
select call_id from switchboard.record_call('ac0c0000-0000-4000-8000-000000000001', 'CA-nocrash-1',
                                            '(415) 555-0100', 'ringing') \gset

-- a plausible value, as SQL text, for an argument of this name and type
create function pg_temp.sample(arg text, t regtype, conv uuid) returns text language sql as $$
    select case
        when t = 'uuid'::regtype and arg in ('conversation_id', 'i') then quote_literal(conv) || '::uuid'
        when t = 'uuid'::regtype then '''ac0c0000-0000-4000-8000-000000000001''::uuid'
        when t = 'text'::regtype then quote_literal(case
            when arg in ('from_phone', 'phone', 'caller', 'raw') then '(415) 555-0100'
            when arg = 'to_phone' then '+14155550199'
            when arg in ('region', 'default_region') then 'US'
            when arg = 'call_sid' then 'CA-nocrash-2'
            when arg = 'status' then 'completed'
            when arg = 'tier' then 'gold'
            when arg in ('k', 'kind') then 'session'
            else 'hello' end) || '::text'
        when t = 'name'::regtype then '''no_such_role''::name'
        when t = 'jsonb'::regtype then '''{"tokens_used": 1}''::jsonb'
        when t = 'timestamptz'::regtype then 'now()'
        when t = 'date'::regtype then 'current_date'
        when t in ('integer'::regtype, 'bigint'::regtype) then '1'
        when t = 'boolean'::regtype then 'true'
        when t = 'interval'::regtype then '''400 days''::interval'
        else 'NULL::' || t::text end
$$;

create temp table made (fn regprocedure, variant text, sqlstate text);

do $$
declare
    f record;
    v int;
    args text[];
    state text;
    conv uuid := (select conversation_id from switchboard.conversations
                   where agent_id = 'ac0c0000-0000-4000-8000-000000000001');
begin
    for f in select p.oid::regprocedure as fn, p.proname, p.pronargs,
                    coalesce(p.proargnames, '{}') as names, p.proargtypes::regtype[] as types
               from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'switchboard' and p.prorettype <> 'trigger'::regtype loop
        -- variant -1: every argument NULL; 0: plausible values; i: NULL in argument i
        for v in -1 .. f.pronargs loop
            args := '{}';
            for i in 1 .. f.pronargs loop
                args := args || case when v = -1 or v = i then 'NULL::' || f.types[i - 1]::text
                                     else pg_temp.sample(f.names[i], f.types[i - 1], conv) end;
            end loop;
            state := '00000';
            begin
                execute format('select * from switchboard.%I(%s)', f.proname, array_to_string(args, ', '));
            exception when others then
                get stacked diagnostics state = returned_sqlstate;
            end;
            insert into made values (f.fn, case v when -1 then 'all NULL' when 0 then 'values'
                                               else 'NULL argument ' || v end, state);
        end loop;
    end loop;
end $$;

select cmp_ok((select count(distinct fn) from made)::int, '>=', 30, 'every function was called (at least 30)');
select is((select string_agg(m.variant || ': ' || m.sqlstate, ', ') from made m
            where m.fn = f.fn and m.sqlstate like 'XX%'), null,
          'no crash, no internal error: ' || f.fn::text)
  from (select distinct fn from made) f order by f.fn::text;
select is(1 + 1, 2, 'the backend is alive after every call');

select * from finish();
rollback;
