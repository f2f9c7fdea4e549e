-- The row-level security matrix (Supabase-like fixture, see test/scripts/supabase.sh):
-- each role (anon, owner, other owner, service_role) x each table x
-- select/insert/update/delete, and each role x each function, with the
-- expected outcome asserted in every cell.  Cells are generated below; every
-- cell runs in its own subtransaction as PostgREST would run it (claims in
-- request.jwt.claims, SET LOCAL ROLE) and is rolled back.
begin;
set local client_min_messages = warning;

-- fixture: agent A of owner O, agent B of owner P, a row of A in every table
create temp table fx (k text primary key, v text);
insert into fx values
    ('owner', '0a000000-0000-4000-8000-000000000001'),
    ('other', '0b000000-0000-4000-8000-000000000002'),
    ('agent', 'a0000000-0000-4000-8000-00000000000a'),
    ('agent_b', 'b0000000-0000-4000-8000-00000000000b'),
    ('unknown', 'f0000000-0000-4000-8000-00000000000f'),
    ('conv', 'c0000000-0000-4000-8000-00000000000c');
create function pg_temp.fx(text) returns text language sql stable as
    $$ select v from pg_temp.fx where k = $1 $$;

insert into switchboard.agents (agent_id, owner_id, display_name, sms_enabled)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('owner')::uuid, 'A', true),
       (pg_temp.fx('agent_b')::uuid, pg_temp.fx('other')::uuid, 'B', true);
insert into switchboard.blocked_numbers (agent_id, phone, reason)
values (pg_temp.fx('agent')::uuid, '+12015550111', 'spam');
insert into switchboard.conversations (agent_id, conversation_id, phone)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, '+12015550142');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, 'inbound', '+12015550142', 'hello');
insert into switchboard.calls (agent_id, call_sid, caller)
values (pg_temp.fx('agent')::uuid, 'CA-fixture', '+12015550142');
insert into switchboard.agent_daily_counters (agent_id, day, new_conversations)
values (pg_temp.fx('agent')::uuid, '2026-01-01', 1);
-- analytics: a task reply, folded into the rollups, then one more message not
-- folded (above the agent's watermark) and a call's change staged
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body, metadata)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, 'outbound', '+12015550142', 'hi',
        '{"category": "support", "tokens_used": 5, "success": true}');
do $$ begin perform switchboard.rollup(pg_temp.fx('agent')::uuid); end $$;
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body)
values (pg_temp.fx('agent')::uuid, pg_temp.fx('conv')::uuid, 'inbound', '+12015550142', 'again');
-- 0.10.0: and a blocked one from a number not seen yet (news for the fold)
insert into switchboard.messages (agent_id, direction, phone, body, decision)
values (pg_temp.fx('agent')::uuid, 'inbound', '+12015550143', 'blocked', 'blocked');
update switchboard.calls set status = 'in_progress' where call_sid = 'CA-fixture';
insert into switchboard.stats_horizon (agent_id, purged_before) values (pg_temp.fx('agent')::uuid, '2000-01-01');
-- 0.2.0: routing, business hours, tiers, contacts
insert into switchboard.phone_numbers (number, agent_id, kind) values ('+12015550180', pg_temp.fx('agent')::uuid, 'both');
insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time)
values (pg_temp.fx('agent')::uuid, 1, '09:00', '17:00');
insert into switchboard.closed_dates (agent_id, day) values (pg_temp.fx('agent')::uuid, '2026-12-25');
insert into switchboard.tiers (agent_id, tier, monthly_limit) values (pg_temp.fx('agent')::uuid, 'free', 100);
insert into switchboard.contacts (agent_id, phone) values (pg_temp.fx('agent')::uuid, '+12015550142');
-- B has rows too, so "sees only A's" differs from "sees all"
insert into switchboard.conversations (agent_id, phone) values (pg_temp.fx('agent_b')::uuid, '+12015550143');

-- who runs a cell
create temp table who (who text primary key, ord int, role name, claims text);
insert into who values
    ('anon', 1, 'anon', '{"role":"anon"}'),
    ('owner', 2, 'authenticated', format('{"sub":"%s","role":"authenticated"}', pg_temp.fx('owner'))),
    ('other', 3, 'authenticated', format('{"sub":"%s","role":"authenticated"}', pg_temp.fx('other'))),
    ('service_role', 4, 'service_role', '{"role":"service_role"}');

-- Runs one statement as `who` and rolls it back: 'rows:N' or 'SQLSTATE: message'.
create function pg_temp.run_cell(who_ text, stmt text) returns text language plpgsql as $$
declare
    r record;
    n bigint;
    outcome text;
begin
    select * into strict r from pg_temp.who w where w.who = who_;
    begin
        perform set_config('request.jwt.claims', r.claims, true);
        perform set_config('role', r.role, true);
        execute stmt;
        get diagnostics n = row_count;
        outcome := 'rows:' || n;
        raise sqlstate 'SBOK0';
    exception when others then
        if sqlstate <> 'SBOK0' then
            outcome := sqlstate || ': ' || sqlerrm;
        end if;
    end;
    return outcome;
end
$$;

-- Per table: how to insert one row of agent A (every table must be here).
create temp table table_insert (tab name primary key, stmt text);
insert into table_insert values
    ('agents', 'insert into switchboard.agents (owner_id) values (%2$L)'),
    ('blocked_numbers', 'insert into switchboard.blocked_numbers (agent_id, phone) values (%1$L, ''+12015550199'')'),
    ('conversations', 'insert into switchboard.conversations (agent_id, phone) values (%1$L, ''+12015550198'')'),
    ('messages', 'insert into switchboard.messages (agent_id, conversation_id, direction, phone, body) values (%1$L, %3$L, ''outbound'', ''+12015550142'', ''cell'')'),
    ('calls', 'insert into switchboard.calls (agent_id, call_sid, caller) values (%1$L, ''CA-cell'', ''+12015550197'')'),
    ('agent_daily_counters', 'insert into switchboard.agent_daily_counters (agent_id, day) values (%1$L, ''2000-01-01'')');
-- analytics (issue 5)
insert into table_insert values
    ('stats_daily', 'insert into switchboard.stats_daily (agent_id, day) values (%1$L, ''2000-01-01'')'),
    ('stats_delta', 'insert into switchboard.stats_delta (agent_id, day) values (%1$L, ''2000-01-01'')'),
    ('stats_daily_category', 'insert into switchboard.stats_daily_category (agent_id, day, category) values (%1$L, ''2000-01-01'', ''cell'')'),
    ('stats_seen', 'insert into switchboard.stats_seen (agent_id, kind, day, value) values (%1$L, ''phone'', ''2000-01-01'', ''+12015550199'')'),
    ('stats_first', 'insert into switchboard.stats_first values (%1$L, ''conversation'', gen_random_uuid(), now(), 1, ''2000-01-01'')'),
    ('stats_horizon', 'insert into switchboard.stats_horizon (agent_id, purged_before) values (%1$L, ''2000-01-01'') on conflict (agent_id) do update set purged_before = excluded.purged_before'),
    -- 0.9.0: the fold's watermark (an insert that leaves it where it is)
    ('stats_watermark', 'insert into switchboard.stats_watermark as w (agent_id, folded_through) values (%1$L, 0) on conflict (agent_id) do update set folded_through = greatest(w.folded_through, excluded.folded_through)');
insert into table_insert values
    ('phone_numbers', 'insert into switchboard.phone_numbers (number, agent_id) values (''+12015550196'', %1$L)'),
    ('business_hours', 'insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time) values (%1$L, 2, ''09:00'', ''17:00'')'),
    ('closed_dates', 'insert into switchboard.closed_dates (agent_id, day) values (%1$L, ''2000-01-01'')'),
    ('tiers', 'insert into switchboard.tiers (agent_id, tier, monthly_limit) values (%1$L, ''cell'', 1)'),
    ('contacts', 'insert into switchboard.contacts (agent_id, phone) values (%1$L, ''+12015550195'')');

-- How many rows of A each table holds, as the superuser sees them
create temp table a_rows (tab name primary key, n bigint);
do $$
declare t name; n bigint;
begin
    for t in select tab from pg_temp.table_insert loop
        execute format('select count(*) from switchboard.%I where agent_id = %L', t, pg_temp.fx('agent')) into n;
        insert into pg_temp.a_rows values (t, n);
    end loop;
end $$;

-- Per function: a call for agent A (%1$L; %3$L is A's conversation), the
-- outcome for the owner and service_role, and whether it is scoped to an
-- agent (then someone else gets 42501 naming the agent).  Every function of
-- the schema must be here, except trigger functions (not callable).
create temp table fn_call (fn text primary key, stmt text, scoped boolean, internal boolean default false);
insert into fn_call values
    ('record_inbound(uuid,text,text,jsonb,timestamp with time zone)',
     'select * from switchboard.record_inbound(%1$L, ''+12015550142'', ''hello'')', true, false),
    ('record_outbound(uuid,uuid,text,jsonb,timestamp with time zone)',
     'select switchboard.record_outbound(%1$L, %3$L, ''hi'')', true, false),
    ('check_rate_limit(uuid,text,timestamp with time zone)',
     'select * from switchboard.check_rate_limit(%1$L, ''+12015550142'')', true, false),
    ('upsert_conversation(uuid,text,timestamp with time zone)',
     'select * from switchboard.upsert_conversation(%1$L, ''+12015550177'')', true, false),
    ('record_call(uuid,text,text,text,timestamp with time zone,integer,jsonb)',
     'select * from switchboard.record_call(%1$L, ''CA-fn'', ''+12015550142'', ''ringing'')', true, false),
    ('normalize_phone(text,text)', 'select switchboard.normalize_phone(''(201) 555-0123'', ''US'')', false, false),
    ('try_normalize_phone(text,text)', 'select switchboard.try_normalize_phone(''(201) 555-0123'', ''US'')', false, false),
    ('phone_is_valid(text,text)', 'select switchboard.phone_is_valid(''+12015550123'')', false, false),
    ('phone_info(text,text)', 'select * from switchboard.phone_info(''+12015550123'')', false, false),
    ('is_e164(text)', 'select 1 where switchboard.is_e164(''+12015550123'')', false, false),
    ('current_user_id()', 'select switchboard.current_user_id()', false, false),
    ('agent_not_found(uuid)', 'select switchboard.agent_not_found(%1$L)', true, false),
    ('grant_usage(name)', 'select switchboard.grant_usage(''authenticated'')', false, true),
    ('guard_selftest(text)', 'select switchboard.guard_selftest(''none'')', false, true);
-- analytics (issue 5).  The read statements keep only days with figures, so
-- "rows:0" for someone else means nothing of A leaked.  The helpers (comment
-- "helper: ...") run with the caller's rights inside the public functions
-- and triggers, so the usage roles may execute them; row-level security
-- keeps them to the caller's agents (see fn_expect below).
insert into fn_call values
    ('daily_stats(uuid,date,date)',
     'select * from switchboard.daily_stats(%1$L, current_date - 1, current_date + 1) where inbound > 0 and calls_total > 0', true, false),
    ('agent_summary(uuid,integer)',
     'select * from switchboard.agent_summary(%1$L, 3) where inbound > 0 and calls_total > 0', true, false),
    ('rollup(uuid)', 'select switchboard.rollup(%1$L)', true, false),
    ('rebuild_stats(uuid,date,date)', 'select switchboard.rebuild_stats(%1$L)', true, false),
    ('purge(interval)', 'select switchboard.purge(''100 years'')', false, false),
    ('stats_check_agent(uuid)', 'select switchboard.stats_check_agent(%1$L)', true, false),
    ('stats_agent_tz(uuid)', 'select switchboard.stats_agent_tz(%1$L)', false, false),
    ('stats_is_task(jsonb)', 'select switchboard.stats_is_task(''{"tokens_used": 3}'')', false, false),
    ('stats_fold(uuid,bigint)', 'select n from switchboard.stats_fold(%1$L) n where n > 0', false, false),
    ('stats_days(uuid,date,date)',
     'select * from switchboard.stats_days(%1$L, current_date - 1, current_date + 1) where inbound > 0 and calls_total > 0', false, false),
    ('stats_from_raw(uuid,date,date)',
     'select * from switchboard.stats_from_raw(%1$L, current_date - 1, current_date + 1) where inbound > 0 and calls_total > 0', false, false),
    -- 0.9.0: the fold of the messages from the raw rows
    ('stats_settle_messages()', 'select 1 where switchboard.stats_settle_messages()', false, false),
    ('stats_unfolded(uuid)', 'select 1 where switchboard.stats_unfolded(%1$L)', false, false),
    ('stats_message_deltas(uuid,bigint,bigint,switchboard.stats_news[])',
     'select 1 from (select sum(inbound) as n from switchboard.stats_message_deltas(%1$L, 0, null)) x where x.n > 0', false, false),
    -- 0.10.0
    ('stats_message_news(uuid,bigint,bigint)',
     'select 1 from switchboard.stats_message_news(%1$L, 0, null) n where n.kind = ''phone''', false, false),
    ('stats_fold_messages(uuid,bigint)',
     'select 1 from switchboard.stats_fold_messages(%1$L, 9223372036854775807)', false, false),
    -- 0.10.0: the check on messages.metadata
    ('tokens_used_fits(jsonb)', 'select 1 where switchboard.tokens_used_fits(''{"tokens_used": 3}'')', false, false),
    ('stats_call_delta(uuid,date,integer,text,timestamp with time zone,integer,integer,boolean)',
     'select switchboard.stats_call_delta(%1$L, current_date, 1, ''completed'', now(), 10, 1, false)', true, false);

-- Where a function's outcome differs from the rule in the cells below:
-- (function, who, for the unknown agent, expected).
-- 0.2.0: a number routes for whoever sees it: another owner does not
insert into fn_call values
    ('route_inbound(text,text,text,jsonb,timestamp with time zone)',
     'select * from switchboard.route_inbound(''+12015550180'', ''+12015550142'', ''hello'')', false, false),
    ('route_call(text,text,text,text,timestamp with time zone,integer,jsonb)',
     'select * from switchboard.route_call(''+12015550180'', ''CA-route'', ''+12015550142'', ''ringing'')', false, false),
    ('is_open(uuid,timestamp with time zone)', 'select switchboard.is_open(%1$L, now())', true, false),
    -- 0.5.0: the helper behind agents.has_schedule and has_tiers (A has both)
    ('agent_uses(uuid)', 'select 1 from switchboard.agent_uses(%1$L) u where u.has_schedule and u.has_tiers', false, false),
    ('set_contact_tier(uuid,text,text)',
     'select switchboard.set_contact_tier(%1$L, ''(201) 555-0142'', ''Pro'')', true, false);

create temp table fn_expect (fn text, who text, unknown boolean, expected text,
                             primary key (fn, who, unknown));
insert into fn_expect values
    ('route_inbound(text,text,text,jsonb,timestamp with time zone)', 'other', false,
     'P0002: phone number "+12015550180" is not provisioned'),
    ('route_call(text,text,text,text,timestamp with time zone,integer,jsonb)', 'other', false,
     'P0002: phone number "+12015550180" is not provisioned');
insert into fn_expect
select f.fn, w.who, u.unknown, f.expected
  from (values
        -- the helpers' reads see only the caller's rows: nothing of A for someone else
        ('stats_fold(uuid,bigint)', 'other', 'rows:0'),
        ('stats_days(uuid,date,date)', 'other', 'rows:0'),
        ('stats_from_raw(uuid,date,date)', 'other', 'rows:0'),
        ('stats_message_deltas(uuid,bigint,bigint,switchboard.stats_news[])', 'other', 'rows:0'),
        ('stats_message_news(uuid,bigint,bigint)', 'other', 'rows:0'),
        ('stats_unfolded(uuid)', 'other', 'rows:0'),
        ('stats_fold_messages(uuid,bigint)', 'other',
         '42501: new row violates row-level security policy for table "stats_watermark"'),
        ('agent_uses(uuid)', 'other', 'rows:0'))
       f (fn, who, expected)
 cross join (values (false)) u (unknown)
 join pg_temp.who w using (who)
union all
-- the staging helpers write rows of the agent: row-level security refuses a
-- row for an agent the caller does not own; service_role has no agent check
-- there (the triggers that call them only see rows whose agent exists)
select f.fn, w.who, u.unknown,
       case when w.who = 'service_role' then 'rows:1'
            else format('42501: new row violates row-level security policy for table "%s"', f.tab) end
  from (values
        ('stats_call_delta(uuid,date,integer,text,timestamp with time zone,integer,integer,boolean)', 'stats_delta'))
       f (fn, tab)
 cross join pg_temp.who w
 cross join (values (false), (true)) u (unknown)
 where w.who <> 'anon' and (u.unknown or w.who = 'other');

-- The cells ------------------------------------------------------------------
create temp table cells (who text, ord int, object text, op text, stmt text, expected text);

-- tables: rows of A, by every role
insert into cells
select w.who, w.ord, t.tab, o.op,
       case o.op
           when 'select' then format('select 1 from switchboard.%I where agent_id = %L', t.tab, pg_temp.fx('agent'))
           when 'insert' then format(t.stmt, pg_temp.fx('agent'), pg_temp.fx('owner'), pg_temp.fx('conv'))
           when 'update' then format('update switchboard.%I set agent_id = agent_id where agent_id = %L', t.tab, pg_temp.fx('agent'))
           when 'delete' then format('delete from switchboard.%I where agent_id = %L', t.tab, pg_temp.fx('agent'))
       end,
       case
           when w.who = 'anon' then '42501: permission denied for schema switchboard'
           when w.who in ('owner', 'service_role') then
               'rows:' || case when o.op = 'insert' then 1 else a.n end
           -- other owner: sees none of A's rows and cannot add one; where a
           -- BEFORE trigger looks the agent up first, it says so
           when o.op = 'insert' and t.tab in ('blocked_numbers', 'messages') then
               format('42501: permission denied for agent "%s"', pg_temp.fx('agent'))
           when o.op = 'insert' then
               format('42501: new row violates row-level security policy for table "%s"', t.tab)
           else 'rows:0'
       end
  from pg_temp.who w
 cross join pg_temp.table_insert t
 join pg_temp.a_rows a using (tab)
 cross join (values ('select', 1), ('insert', 2), ('update', 3), ('delete', 4)) o (op, n);

-- functions: for agent A, and for an agent that does not exist
insert into cells
select w.who, w.ord, f.fn || case when u.unknown then ' [unknown agent]' else '' end, 'execute',
       format(f.stmt, case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end,
              pg_temp.fx('owner'), pg_temp.fx('conv')),
       coalesce(x.expected, case
           when w.who = 'anon' then '42501: permission denied for schema switchboard'
           when f.internal then format('42501: permission denied for function %s', split_part(f.fn, '(', 1))
           when f.fn like 'agent_not_found%' then
               case when w.who = 'service_role'
                    then format('P0002: agent "%s" does not exist', case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end)
                    else format('42501: permission denied for agent "%s"', case when u.unknown then pg_temp.fx('unknown') else pg_temp.fx('agent') end) end
           when not f.scoped then 'rows:1'
           when u.unknown and w.who = 'service_role' then
               format('P0002: agent "%s" does not exist', pg_temp.fx('unknown'))
           when u.unknown then format('42501: permission denied for agent "%s"', pg_temp.fx('unknown'))
           when w.who = 'other' then format('42501: permission denied for agent "%s"', pg_temp.fx('agent'))
           else 'rows:1'
       end)
  from pg_temp.who w
 cross join pg_temp.fn_call f
 cross join (values (false), (true)) u (unknown)
  left join pg_temp.fn_expect x on x.fn = f.fn and x.who = w.who and x.unknown = u.unknown
 where to_regprocedure('switchboard.' || f.fn) is not null
   and (f.scoped or not u.unknown);

select plan((select count(*)::int from pg_temp.cells) + 4);

-- the matrix must cover every table and every callable function of the schema
select set_eq(
    $$select c.relname::text from pg_class c where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')$$,
    $$select tab::text from pg_temp.table_insert$$,
    'the matrix covers every table of schema switchboard');
select set_eq(
    $$select p.oid::regprocedure::text from pg_proc p
       where p.pronamespace = 'switchboard'::regnamespace and p.prorettype <> 'trigger'::regtype$$,
    $$select 'switchboard.' || fn from pg_temp.fn_call where to_regprocedure('switchboard.' || fn) is not null$$,
    'the matrix covers every function of schema switchboard (trigger functions aside)');
select is((select count(*)::int from pg_temp.fn_call where to_regprocedure('switchboard.' || fn) is null), 0,
          'every function the matrix names exists');
-- the event functions ran once as superuser first, so the matrix also checks
-- that plans cached for one role are not reused for another
select lives_ok(format($$select * from switchboard.check_rate_limit(%L, '+12015550142')$$, pg_temp.fx('agent')),
                'superuser runs an event function first');

select is(pg_temp.run_cell(who, stmt), expected, format('%s | %s | %s', who, object, op))
  from pg_temp.cells
 order by object, op, ord;

select * from finish();
rollback;
