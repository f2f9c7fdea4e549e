-- analytics rollups: incremental figures equal a rebuild from raw rows, field by
-- field, after randomized event mixes; exact uniques; timezone day boundaries;
-- call status paths; late events; purge
begin;
select plan(97);

select setseed(0.42);

insert into switchboard.agents (agent_id, display_name, timezone) values
    ('00000000-0000-0000-0000-0000000000a1', 'new york', 'America/New_York'),
    ('00000000-0000-0000-0000-0000000000a2', 'utc', 'UTC'),
    ('00000000-0000-0000-0000-0000000000a3', 'tokyo', 'Asia/Tokyo'),
    ('00000000-0000-0000-0000-0000000000a4', 'calls', 'Europe/Berlin');

-- a pool of conversations per agent
insert into switchboard.conversations (agent_id, phone)
select a.agent_id, '+1201555' || lpad(i::text, 4, '0')
  from switchboard.agents a, generate_series(1, 12) i
 where a.agent_id in ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a2');

-- a randomized mix: inbound of every decision, outbound with and without AI
-- metadata, times spread over ten days and inserted out of order (late events),
-- one row at a time and in multi-row statements; two sessions per conversation
create function pg_temp.random_messages(a uuid, n integer, base timestamptz) returns void
language plpgsql as $$
declare
    c record;
    dir text;
    dec text;
    md jsonb;
    sess uuid;
    i integer;
begin
    for i in 1 .. n loop
        select * into c from switchboard.conversations x where x.agent_id = a order by random() limit 1;
        dir := case when random() < 0.55 then 'inbound' else 'outbound' end;
        dec := 'accepted';
        if dir = 'inbound' and random() < 0.3 then
            dec := (array['blocked', 'rate_limited', 'daily_limit', 'disabled', 'quota_exceeded'])[1 + floor(random() * 5)::int];
        end if;
        md := '{}';
        if dir = 'outbound' and random() < 0.7 then
            md := jsonb_build_object('tokens_used', floor(random() * 500)::int,
                                     'processing_ms', round((random() * 900)::numeric, 1));
            if random() < 0.8 then
                md := md || jsonb_build_object('success', random() < 0.7);
            end if;
            if random() < 0.6 then
                md := md || jsonb_build_object('category', (array['billing', 'support', 'sales'])[1 + floor(random() * 3)::int]);
            end if;
        end if;
        sess := case when random() < 0.5 then c.session_id
                     else ('00000000-0000-0000-0000-' || lpad(to_hex(abs(hashtext(c.conversation_id::text)) % 1000000), 12, '0'))::uuid end;
        if random() < 0.2 then
            -- two rows in one statement, the later one first in time sometimes
            insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, body, metadata, decision, created_at, after_hours)
            values (a, c.conversation_id, sess, dir, c.phone, 'x', md, dec, base + random() * interval '10 days',
                    dir = 'inbound' and abs(hashtext(c.phone)) % 3 = 0),
                   (a, c.conversation_id, sess, 'outbound', c.phone, 'y', '{"tokens_used": 7}', 'accepted', base + random() * interval '10 days', false);
        else
            insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, body, metadata, decision, created_at, after_hours)
            values (a, case when dec = 'accepted' or random() < 0.5 then c.conversation_id end,
                    case when dec = 'accepted' or random() < 0.5 then sess end,
                    dir, c.phone, 'x', md, dec, base + random() * interval '10 days',
                    dir = 'inbound' and abs(hashtext(c.phone)) % 3 = 0);
        end if;
    end loop;
end
$$;

-- calls in every status path, some updated step by step, some inserted final;
-- half through record_call (after_hours from the agent's business hours), half
-- plain DML with a random after_hours, a few of those flipped later
create function pg_temp.random_calls(a uuid, n integer, base timestamptz) returns void
language plpgsql as $$
declare
    i integer;
    sid text;
    t timestamptz;
    path text[];
    s text;
    r double precision;
begin
    for i in 1 .. n loop
        sid := 'CA' || a::text || '-' || i || '-' || floor(random() * 1e9)::bigint;
        t := base + random() * interval '10 days';
        r := random();
        path := case
            when r < 0.35 then array['ringing', 'in_progress', 'completed']
            when r < 0.45 then array['ringing', 'in_progress', 'failed']
            when r < 0.55 then array['ringing', 'failed']
            when r < 0.65 then array['ringing', 'busy']
            when r < 0.75 then array['ringing', 'no_answer']
            when r < 0.85 then array['ringing', 'canceled']
            when r < 0.92 then array['ringing', 'in_progress']
            else array['ringing'] end;
        if random() < 0.5 then
            perform switchboard.record_call(a, sid, '+1973555' || lpad((floor(random() * 15))::int::text, 4, '0'),
                                            'ringing', t);
        else
            insert into switchboard.calls (agent_id, call_sid, caller, status, started_at, after_hours)
            values (a, sid, '+1973555' || lpad((floor(random() * 15))::int::text, 4, '0'), 'ringing', t,
                    random() < 0.3);
            if random() < 0.1 then
                update switchboard.calls set after_hours = not after_hours where agent_id = a and call_sid = sid;
            end if;
        end if;
        foreach s in array path[2:] loop
            update switchboard.calls set
                status = s,
                answered_at = case when s = 'in_progress' then t + interval '5 seconds' else answered_at end,
                ended_at = case when s not in ('in_progress') then t + interval '60 seconds' else ended_at end,
                duration_seconds = case when s = 'completed' then floor(random() * 600)::int else duration_seconds end
             where agent_id = a and call_sid = sid;
        end loop;
    end loop;
end
$$;

create function pg_temp.snapshot(a uuid) returns setof text
language sql as $$
    select row(d.*)::text from switchboard.daily_stats(a, '2025-12-25', '2026-01-20') d
    union all
    select row(s.*)::text from switchboard.agent_summary(a, 400) s
$$;

create function pg_temp.matches_rebuild(a uuid, what text) returns text
language plpgsql as $$
declare
    before text[];
    after text[];
begin
    before := array(select pg_temp.snapshot(a));
    perform switchboard.rebuild_stats(a);
    after := array(select pg_temp.snapshot(a));
    return is(after, before, what);
end
$$;

-- business hours for the calls' after_hours: New York weekdays 09:00-17:00,
-- UTC every day 08:00-20:00 plus an overnight 22:00-02:00 on Saturdays
insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time)
select '00000000-0000-0000-0000-0000000000a1'::uuid, d, '09:00'::time, '17:00'::time from generate_series(1, 5) d
union all
select '00000000-0000-0000-0000-0000000000a2', d, '08:00', '20:00' from generate_series(0, 6) d
union all
select '00000000-0000-0000-0000-0000000000a2', 6, '22:00', '02:00';

-- 1. randomized mixes on two agents (one non-UTC), checked after each round
select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a1', 300, '2026-01-01 00:00+00');
select pg_temp.random_calls('00000000-0000-0000-0000-0000000000a1', 60, '2026-01-01 00:00+00');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a1', 'round 1: incremental equals rebuilt, every field of every day (New York)');
select ok((select sum(inbound) from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')) > 100,
          'round 1 really stored inbound messages');

select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a2', 300, '2026-01-01 00:00+00');
select pg_temp.random_calls('00000000-0000-0000-0000-0000000000a2', 60, '2026-01-01 00:00+00');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a2', 'round 1: incremental equals rebuilt (UTC)');

-- more events after a rebuild, then a partial-range rebuild
select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a1', 200, '2026-01-03 00:00+00');
select pg_temp.random_calls('00000000-0000-0000-0000-0000000000a1', 40, '2026-01-02 00:00+00');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a1', 'round 2 (late events into rebuilt days): incremental equals rebuilt');

select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a2', 200, '2025-12-28 00:00+00');
select cmp_ok(switchboard.rollup(), '>', 0::bigint, 'rollup() folds the staged deltas of every agent');
select is(array(select pg_temp.snapshot('00000000-0000-0000-0000-0000000000a2')),
          array(select pg_temp.snapshot('00000000-0000-0000-0000-0000000000a2')),
          'reading twice (folding in between) gives the same figures');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a2', 'round 2: incremental equals rebuilt (UTC)');

-- 2. against plain GROUP BY over the raw rows, independently of rebuild_stats
-- (0.2.0: quota_exceeded and after-hours inbound messages, not counted as disabled)
select ok((select sum(quota_exceeded) > 0 and sum(after_hours) > 0
             from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')),
          'the mix has quota_exceeded and after-hours messages');
select results_eq(
    $$select day, quota_exceeded, after_hours, disabled
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')
       where inbound > 0 order by day$$,
    $$select (created_at at time zone 'America/New_York')::date,
             count(*) filter (where direction = 'inbound' and decision = 'quota_exceeded'),
             count(*) filter (where direction = 'inbound' and after_hours),
             count(*) filter (where direction = 'inbound' and decision = 'disabled')
        from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000a1'
       group by 1 having count(*) filter (where direction = 'inbound') > 0 order by 1$$,
    'quota_exceeded and after_hours per New York day equal a GROUP BY over the raw rows');
select results_eq(
    $$select quota_exceeded, after_hours from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a2', 400)$$,
    $$select count(*) filter (where direction = 'inbound' and decision = 'quota_exceeded'),
             count(*) filter (where direction = 'inbound' and after_hours)
        from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000a2'$$,
    'agent_summary totals quota_exceeded and after_hours');
select results_eq(
    $$select day, inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, unique_phones
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')
       where inbound + outbound > 0 order by day$$,
    $$select (created_at at time zone 'America/New_York')::date,
             count(*) filter (where direction = 'inbound'),
             count(*) filter (where direction = 'inbound' and decision = 'accepted'),
             count(*) filter (where direction = 'inbound' and decision = 'blocked'),
             count(*) filter (where direction = 'inbound' and decision = 'rate_limited'),
             count(*) filter (where direction = 'inbound' and decision = 'daily_limit'),
             count(*) filter (where direction = 'inbound' and decision = 'disabled'),
             count(*) filter (where direction = 'outbound'),
             count(distinct phone) filter (where direction = 'inbound')
        from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000a1'
       group by 1 order by 1$$,
    'message counts and exact unique phones per New York day equal a GROUP BY over the raw rows');
select results_eq(
    $$select day, calls_total, calls_answered, calls_completed, calls_failed, calls_busy, calls_no_answer,
             calls_canceled, call_duration_total, unique_callers, calls_after_hours
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')
       where calls_total > 0 order by day$$,
    $$select (started_at at time zone 'America/New_York')::date, count(*),
             count(*) filter (where answered_at is not null or status in ('in_progress', 'completed')),
             count(*) filter (where status = 'completed'), count(*) filter (where status = 'failed'),
             count(*) filter (where status = 'busy'), count(*) filter (where status = 'no_answer'),
             count(*) filter (where status = 'canceled'), coalesce(sum(duration_seconds) filter (where status = 'completed'), 0)::bigint,
             count(distinct caller), count(*) filter (where after_hours)
        from switchboard.calls where agent_id = '00000000-0000-0000-0000-0000000000a1'
       group by 1 order by 1$$,
    'call counts by final status, durations, exact unique callers and after-hours calls equal a GROUP BY over the raw rows');
select results_eq(
    $$select count(*) filter (where after_hours) > 0, count(*) filter (where not after_hours) > 0,
             bool_and(after_hours = not switchboard.is_open(agent_id, started_at)) filter (where conversation_id is not null)
        from switchboard.calls where agent_id in ('00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a2')$$,
    $$values (true, true, true)$$,
    'the random mix has calls in and after hours; record_call''s (with a conversation) follow is_open at their start');

select is((select unique_phones from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a1', 400)),
          (select count(distinct phone) from switchboard.messages
            where agent_id = '00000000-0000-0000-0000-0000000000a1' and direction = 'inbound'),
          'window unique phones count a phone once across days');
select cmp_ok((select sum(unique_phones) from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20'))::bigint,
              '>', (select unique_phones from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a1', 400)),
              'summing per-day uniques would double count (so the window does not)');
select is((select unique_callers from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a1', 400)),
          (select count(distinct caller) from switchboard.calls where agent_id = '00000000-0000-0000-0000-0000000000a1'),
          'window unique callers are exact');
select is((select sum(new_conversations) from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20'))::bigint,
          (select count(distinct conversation_id) from switchboard.messages
            where agent_id = '00000000-0000-0000-0000-0000000000a1' and conversation_id is not null),
          'every conversation counts as new once, on the day of its first message');
select is((select sum(tokens_used) from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20'))::bigint,
          (select sum((metadata->>'tokens_used')::bigint)::bigint from switchboard.messages
            where agent_id = '00000000-0000-0000-0000-0000000000a1' and direction = 'outbound'),
          'tokens used sum the outbound metadata');

-- 3. timezone day boundaries (Tokyo is UTC+9: its day ends at 15:00 UTC)
insert into switchboard.conversations (agent_id, phone) values ('00000000-0000-0000-0000-0000000000a3', '+12015550999');
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, created_at)
select c.agent_id, c.conversation_id, c.session_id, 'inbound', c.phone, t
  from switchboard.conversations c,
       unnest(array['2026-01-01 14:59:59.999999+00', '2026-01-01 15:00:00+00', '2026-01-01 15:00:01+00']::timestamptz[]) t
 where c.agent_id = '00000000-0000-0000-0000-0000000000a3';
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, created_at)
select c.agent_id, c.conversation_id, c.session_id, 'outbound', c.phone, '2026-01-01 15:00:30+00'
  from switchboard.conversations c where c.agent_id = '00000000-0000-0000-0000-0000000000a3';
select results_eq(
    $$select day, inbound, outbound, unique_phones, new_conversations, replies, reply_latency_avg
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a3', '2026-01-01', '2026-01-03')$$,
    $$values ('2026-01-01'::date, 1::bigint, 0::bigint, 1::bigint, 1::bigint, 0::bigint, null::numeric),
             ('2026-01-02', 2, 1, 1, 0, 1, 29.000),
             ('2026-01-03', 0, 0, 0, 0, 0, null)$$,
    'a Tokyo agent''s day turns at 15:00 UTC; the phone is unique on each day; quiet days are zeros');
select is((select unique_phones from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a3', 36600)),
          1::bigint, 'the same phone on two days is one unique phone over the window');
-- a late first message moves "new conversation" to its own, earlier day
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, created_at)
select c.agent_id, c.conversation_id, c.session_id, 'inbound', c.phone, '2025-12-31 14:00+00'
  from switchboard.conversations c where c.agent_id = '00000000-0000-0000-0000-0000000000a3';
select results_eq(
    $$select day, inbound, new_conversations, new_sessions from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a3', '2025-12-31', '2026-01-02')$$,
    $$values ('2025-12-31'::date, 1::bigint, 1::bigint, 1::bigint), ('2026-01-01', 1, 0, 0), ('2026-01-02', 2, 0, 0)$$,
    'a late first message moves new conversation and new session to its own day');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a3', 'Tokyo: incremental equals rebuilt');

-- 4. a late outbound splits an existing reply pair
insert into switchboard.conversations (agent_id, conversation_id, phone)
values ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', '+14155550100');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', 'inbound', '+14155550100', '2026-02-01 10:00:00+00');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', 'outbound', '+14155550100', '2026-02-01 10:00:10+00');
select results_eq($$select replies, reply_latency_avg from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-01', '2026-02-01')$$,
                  $$values (1::bigint, 10.000::numeric)$$, 'an outbound after an inbound is a reply');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', 'outbound', '+14155550100', '2026-02-01 10:00:04+00');
select results_eq($$select replies, reply_latency_avg, outbound from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-01', '2026-02-01')$$,
                  $$values (1::bigint, 4.000::numeric, 2::bigint)$$, 'a late outbound in between becomes the reply instead');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', 'inbound', '+14155550100', '2026-02-01 10:00:06+00');
select results_eq($$select replies, reply_latency_avg from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-01', '2026-02-01')$$,
                  $$values (2::bigint, 4.000::numeric)$$, 'a late inbound in between opens a second reply pair');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, decision, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000c9', 'inbound', '+14155550100', 'rate_limited', '2026-02-01 10:00:05+00');
select results_eq($$select replies, reply_latency_avg, rate_limited from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-01', '2026-02-01')$$,
                  $$values (2::bigint, 4.000::numeric, 1::bigint)$$, 'a rejected inbound opens no reply pair');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a2', 'after split pairs: incremental equals rebuilt');
-- a batch of one late inbound message between a folded inbound and its reply:
-- the reply moves to the late one (the fold needs the folded message before
-- the batch here, though the batch has no outbound message)
insert into switchboard.conversations (agent_id, conversation_id, phone)
values ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000ca', '+14155550101');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000ca', 'inbound', '+14155550101', '2026-02-02 10:00:00+00'),
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000ca', 'outbound', '+14155550101', '2026-02-02 10:05:00+00');
select results_eq($$select replies, reply_latency_avg from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-02', '2026-02-02')$$,
                  $$values (1::bigint, 300.000::numeric)$$, 'a reply after five minutes');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, created_at) values
    ('00000000-0000-0000-0000-0000000000a2', '00000000-0000-0000-0000-0000000000ca', 'inbound', '+14155550101', '2026-02-02 10:03:00+00');
select results_eq($$select replies, reply_latency_avg from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', '2026-02-02', '2026-02-02')$$,
                  $$values (1::bigint, 120.000::numeric)$$, 'a late inbound alone in its batch takes the reply over');

-- 5. one call through its status path: counted once, answered once, final status once
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at)
values ('00000000-0000-0000-0000-0000000000a4', 'CA-path', '+12015550123', 'ringing', '2026-03-01 23:30+00');
select results_eq($$select day, calls_total, calls_answered, calls_completed, call_duration_total, unique_callers
                    from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a4', '2026-03-01', '2026-03-02')$$,
                  $$values ('2026-03-01'::date, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint),
                           ('2026-03-02', 1, 0, 0, 0, 1)$$,
                  'ringing: one call, on its Berlin day (23:30 UTC is 00:30 on 2 March there)');
update switchboard.calls set status = 'in_progress', answered_at = '2026-03-01 23:30:07+00'
 where agent_id = '00000000-0000-0000-0000-0000000000a4' and call_sid = 'CA-path';
select results_eq($$select calls_total, calls_answered, calls_completed from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a4', 36600)$$,
                  $$values (1::bigint, 1::bigint, 0::bigint)$$, 'in progress: still one call, now answered');
update switchboard.calls set status = 'completed', ended_at = '2026-03-01 23:32:07+00', duration_seconds = 120
 where agent_id = '00000000-0000-0000-0000-0000000000a4' and call_sid = 'CA-path';
select results_eq($$select calls_total, calls_answered, calls_completed, call_duration_total, call_duration_avg, answer_rate
                    from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a4', 36600)$$,
                  $$values (1::bigint, 1::bigint, 1::bigint, 120::bigint, 120.000::numeric, 1.0000::numeric)$$,
                  'completed: one call, answered, completed, with its duration');
update switchboard.calls set summary = 'talked' where agent_id = '00000000-0000-0000-0000-0000000000a4' and call_sid = 'CA-path';
select is((select calls_total from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a4', 36600)), 1::bigint,
          'an update that changes no counted field changes nothing');
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at)
values ('00000000-0000-0000-0000-0000000000a4', 'CA-busy', '+12015550123', 'ringing', '2026-03-01 20:00+00');
update switchboard.calls set status = 'busy' where agent_id = '00000000-0000-0000-0000-0000000000a4' and call_sid = 'CA-busy';
select results_eq($$select calls_total, calls_answered, calls_busy, unique_callers, answer_rate
                    from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a4', 36600)$$,
                  $$values (2::bigint, 1::bigint, 1::bigint, 1::bigint, 0.5000::numeric)$$,
                  'a busy call: two calls, one answered, one caller');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a4', 'calls: incremental equals rebuilt');

-- 6. switchboard.stats_rollup = off: calls are stored, their rollups untouched;
-- messages are folded from the raw rows whatever the setting (0.9.0)
set local switchboard.stats_rollup = off;
insert into switchboard.messages (agent_id, direction, phone, created_at)
values ('00000000-0000-0000-0000-0000000000a4', 'inbound', '+12015550123', '2026-03-05 12:00+00');
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at)
values ('00000000-0000-0000-0000-0000000000a4', 'CA-off', '+12015550124', 'ringing', '2026-03-05 12:00+00');
select results_eq($$select inbound, calls_total from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a4', '2026-03-05', '2026-03-05')$$,
                  $$values (1::bigint, 0::bigint)$$,
                  'with switchboard.stats_rollup = off the call trigger stages nothing; the message is counted (folded from the raw rows)');
reset switchboard.stats_rollup;
select is(switchboard.rebuild_stats('00000000-0000-0000-0000-0000000000a4', '2026-03-05', '2026-03-05'), 1::bigint, 'a one-day rebuild writes one day');
select results_eq($$select inbound, calls_total from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a4', '2026-03-05', '2026-03-05')$$,
                  $$values (1::bigint, 1::bigint)$$,
                  'a range rebuild catches up');

-- 7. purge keeps the rollups; rebuild does not destroy purged days
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, created_at)
select c.agent_id, c.conversation_id, c.session_id, 'inbound', c.phone, now() - interval '400 days' + i * interval '1 hour'
  from switchboard.conversations c, generate_series(1, 30) i
 where c.agent_id = '00000000-0000-0000-0000-0000000000a2' and c.phone = '+14155550100';
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at)
select '00000000-0000-0000-0000-0000000000a2', 'CA-old-' || i, '+12015550777', 'ringing', now() - interval '400 days' + i * interval '1 hour'
  from generate_series(1, 5) i;
create temp table before_purge as
select * from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', (now() - interval '402 days')::date, (now() - interval '395 days')::date);
select ok((select sum(inbound) from before_purge) = 30 and (select sum(calls_total) from before_purge) = 5, 'old rows are counted');
select is(switchboard.purge('380 days'), 35::bigint, 'purge returns the raw rows it deleted');
select is((select count(*) from switchboard.messages where created_at < now() - interval '380 days'), 0::bigint, 'old messages are gone');
select ok((select count(*) from switchboard.conversations where agent_id = '00000000-0000-0000-0000-0000000000a2' and phone = '+14155550100') = 1,
          'conversations stay');
select results_eq($$select * from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', (now() - interval '402 days')::date, (now() - interval '395 days')::date)$$,
                  $$select * from before_purge$$, 'purged days keep their rollups');
select lives_ok($$select switchboard.rebuild_stats()$$, 'rebuild of everything after a purge');
select results_eq($$select * from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a2', (now() - interval '402 days')::date, (now() - interval '395 days')::date)$$,
                  $$select * from before_purge$$, 'rebuild_stats leaves purged days as they were');
select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a1', 100, '2026-01-05 00:00+00');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a1', 'after purge and more events: incremental equals rebuilt');

-- 8. readers: messages not folded yet read exactly as they do once folded
-- (stats_days adds them to stats_daily on the fly, categories included), and a
-- rebuild agrees
create function pg_temp.unfolded(a uuid) returns bigint language sql as $$
    select count(*) from switchboard.messages m
     where m.agent_id = a
       and m.message_id > coalesce((select w.folded_through from switchboard.stats_watermark w where w.agent_id = a), 0)
$$;
select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a1', 80, '2026-01-04 00:00+00');
select ok((select count(*) from switchboard.messages m
            where m.agent_id = '00000000-0000-0000-0000-0000000000a1' and m.metadata ? 'category'
              and m.message_id > (select folded_through from switchboard.stats_watermark
                                   where agent_id = '00000000-0000-0000-0000-0000000000a1')) > 0,
          'some AI task categories are not folded yet');
create temp table staged_days as
select * from switchboard.stats_days('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20');
select cmp_ok(switchboard.rollup('00000000-0000-0000-0000-0000000000a1'), '>', 0::bigint, 'rollup folds them');
select results_eq($$select * from switchboard.stats_days('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20')$$,
                  $$select * from staged_days$$, 'figures not folded yet read the same as folded ones, categories included');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a1', 'after reads of unfolded messages: incremental equals rebuilt');

-- 8b. daily_stats has two ways to read (0.3.0): with messages not folded
-- (here a read-only transaction, which folds nothing) it adds them to the
-- folded rows; with none (after its own fold) it reads the folded rows in one
-- statement.  Both give the same figures.
select pg_temp.random_messages('00000000-0000-0000-0000-0000000000a1', 60, '2026-01-06 00:00+00');
select cmp_ok(pg_temp.unfolded('00000000-0000-0000-0000-0000000000a1'), '>', 0::bigint,
          'messages not folded before the read-only read');
savepoint read_only_read;
set transaction read only;
select md5(string_agg(x::text, ';' order by x.day)) as staged_md5
  from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20') x \gset
select pg_temp.unfolded('00000000-0000-0000-0000-0000000000a1') as still_staged \gset
rollback to read_only_read;
select cmp_ok(:still_staged::bigint, '>', 0::bigint, 'the read-only read folded nothing: it read folded rows plus messages on the fly');
select is((select md5(string_agg(x::text, ';' order by x.day))
             from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2025-12-25', '2026-01-20') x),
          :'staged_md5', 'daily_stats reads the same once it has folded the messages (the one-statement way)');
select is(pg_temp.unfolded('00000000-0000-0000-0000-0000000000a1'),
          0::bigint, 'that read folded the messages first');

-- 9. through record_inbound/record_outbound (their messages take the
-- trigger's one-statement in-order path), then late events after the day changed
insert into switchboard.agents (agent_id, display_name, timezone, sms_enabled, rate_limit_per_hour)
values ('00000000-0000-0000-0000-0000000000a5', 'record', 'America/Los_Angeles', true, 100);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a5', '+14155550142', 'hi', '{}', '2026-04-01 17:00+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a5', c.conversation_id, 'hello',
                                   '{"tokens_used": 5, "category": "support", "success": true}', '2026-04-01 17:00:12+00')
  from switchboard.conversations c where c.agent_id = '00000000-0000-0000-0000-0000000000a5';
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a5', '+14155550142', 'again', '{}', '2026-04-02 06:00+00');
select results_eq(
    $$select day, inbound, outbound, new_conversations, new_sessions, unique_phones, replies, reply_latency_avg, categories
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a5', '2026-04-01', '2026-04-02')$$,
    $$values ('2026-04-01'::date, 2::bigint, 1::bigint, 1::bigint, 2::bigint, 1::bigint, 1::bigint, 12.000::numeric,
              '{"support": {"tasks": 1, "tokens": 5, "judged": 1, "succeeded": 1}}'::jsonb),
             ('2026-04-02', 0, 0, 0, 0, 0, 0, null, '{}')$$,
    'record_* events: a reply, a new session after the timeout, Los Angeles days (06:00 UTC on 2 April is still 1 April there)');
-- late: an inbound before the reply on the first day, and one before everything the day before
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a5', '+14155550142', 'late', '{}', '2026-04-01 17:00:05+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a5', '+14155550142', 'later', '{}', '2026-03-31 12:00+00');
select results_eq(
    $$select day, inbound, new_conversations, replies, reply_latency_avg
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a5', '2026-03-31', '2026-04-01')$$,
    $$values ('2026-03-31'::date, 1::bigint, 1::bigint, 0::bigint, null::numeric), ('2026-04-01', 3, 0, 1, 7.000)$$,
    'late events: the reply pairs with the later inbound, the new conversation moves to the earlier day');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a5', 'record_* and late events: incremental equals rebuilt');

-- 9b. record_inbound stages an in-order accepted message's analytics in the
-- statement that stores it, with what it knows (the day, a session it has just
-- started); it still reads the first messages, so a conversation opened
-- without one (by upsert_conversation, which writes no contact either) counts
-- as new on its first message's day.  The contact is inserted again when it
-- is gone (the new-contact variant of the statement)
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, session_timeout_minutes)
values ('00000000-0000-0000-0000-0000000000a6', 'hinted', true, 100, 30);
select switchboard.upsert_conversation('00000000-0000-0000-0000-0000000000a6', '+14155550143', '2026-05-01 09:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a6', '+14155550143', 'first', '{}', '2026-05-01 09:05+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a6', '+14155550143', 'second', '{}', '2026-05-01 09:06+00');
select switchboard.upsert_conversation('00000000-0000-0000-0000-0000000000a6', '+14155550143', '2026-05-01 10:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a6', '+14155550143', 'third', '{}', '2026-05-01 10:01+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a6', '+14155550143', 'fourth', '{}', '2026-05-01 10:02+00');
delete from switchboard.contacts where agent_id = '00000000-0000-0000-0000-0000000000a6';
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a6', '+14155550143', 'next day', '{}', '2026-05-02 09:00+00');
select results_eq(
    $$select phone, total_requests from switchboard.contacts where agent_id = '00000000-0000-0000-0000-0000000000a6'$$,
    $$values ('+14155550143'::text, 1::bigint)$$,
    'record_inbound in order: a contact that is gone is inserted again, the message counted once');
select results_eq(
    $$select day, inbound, accepted, new_conversations, new_sessions, unique_phones
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a6', '2026-05-01', '2026-05-02')$$,
    $$values ('2026-05-01'::date, 4::bigint, 4::bigint, 1::bigint, 2::bigint, 1::bigint), ('2026-05-02', 1, 1, 0, 1, 1)$$,
    'record_inbound in order: new conversation on its first message, sessions started by record_inbound, one phone a day');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a6', 'record_inbound in order: incremental equals rebuilt');

-- 9c. record_outbound stages an in-order message's analytics in the statement
-- that stores it (the trigger leaves that row alone), and falls back to the
-- trigger's general path when it cannot: here the conversation's first message
-- is an outbound one on a conversation upsert_conversation opened
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, session_timeout_minutes)
values ('00000000-0000-0000-0000-0000000000a7', 'staged', true, 100, 30);
select switchboard.upsert_conversation('00000000-0000-0000-0000-0000000000a7', '+14155550144', '2026-06-01 09:00+00');
create temp table c7 as select conversation_id from switchboard.conversations
 where agent_id = '00000000-0000-0000-0000-0000000000a7';
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'welcome', '{}', '2026-06-01 09:01+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a7', '+14155550144', 'hi', '{}', '2026-06-01 09:02+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'r1',
       '{"tokens_used": 7, "category": "billing", "success": false, "processing_ms": 100}', '2026-06-01 09:02:30+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'r2', '{}', '2026-06-01 09:02:40+00');
-- an inbound and its reply at the same moment (one transaction's now()), then
-- a second outbound at that moment, which replies to nothing
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a7', '+14155550144', 'again', '{}', '2026-06-01 09:03+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'r3', '{}', '2026-06-01 09:03+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'r4', '{}', '2026-06-01 09:03+00');
-- an outbound after the session timeout starts a session
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a7', (select conversation_id from c7), 'nudge',
       '{"tokens_used": 3, "category": "billing", "success": true}', '2026-06-01 11:00+00');
select results_eq(
    $$select day, inbound, outbound, new_conversations, new_sessions, unique_phones, replies, reply_latency_avg,
             ai_tasks, tokens_used, categories
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a7', '2026-06-01', '2026-06-01')$$,
    $$values ('2026-06-01'::date, 2::bigint, 6::bigint, 1::bigint, 2::bigint, 1::bigint, 2::bigint, 15.000::numeric,
              2::bigint, 10::bigint,
              '{"billing": {"tasks": 2, "tokens": 10, "judged": 2, "succeeded": 1}}'::jsonb)$$,
    'record_outbound: each outbound counted once, the first message opens the conversation, replies and their latency, a session after the timeout');
select is((select count(*) from switchboard.stats_first
            where agent_id = '00000000-0000-0000-0000-0000000000a7' and kind = 'session'),
          2::bigint, 'record_outbound: the session an outbound started has its first message');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a7', 'record_outbound staged: incremental equals rebuilt');

-- ... and messages stored with the rollups off count too: up to 0.8.0 they
-- were left out (record_*'s statement then fell back to the trigger's general
-- path for the next one); since 0.9.0 every message is folded from the raw rows
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour)
values ('00000000-0000-0000-0000-0000000000a8', 'fallback', true, 100);
set local switchboard.stats_rollup = off;
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a8', '+14155550145', 'unseen', '{}', '2026-06-02 09:00+00');
set local switchboard.stats_rollup = on;
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000a8', c.conversation_id, 'reply', '{}', '2026-06-02 09:01+00')
  from switchboard.conversations c where c.agent_id = '00000000-0000-0000-0000-0000000000a8';
select results_eq(
    $$select inbound, outbound, new_conversations, new_sessions, replies, reply_latency_avg
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a8', '2026-06-02', '2026-06-02')$$,
    $$values (1::bigint, 1::bigint, 1::bigint, 1::bigint, 1::bigint, 60.000::numeric)$$,
    'record_outbound after a message stored with the rollups off: both counted (first message, a reply)');
-- record_inbound the same way
set local switchboard.stats_rollup = off;
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a8', '+14155550146', 'unseen', '{}', '2026-06-02 10:00+00');
set local switchboard.stats_rollup = on;
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a8', '+14155550146', 'seen', '{}', '2026-06-02 10:01+00');
select results_eq(
    $$select inbound, accepted, outbound, new_conversations, new_sessions, unique_phones
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a8', '2026-06-02', '2026-06-02')$$,
    $$values (3::bigint, 3::bigint, 1::bigint, 2::bigint, 2::bigint, 2::bigint)$$,
    'record_inbound after a message stored with the rollups off: both counted (first message, the phone seen once)');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a8', 'messages stored with the rollups off: incremental equals rebuilt');

-- 9d. (0.9.0) the write path stages nothing for a message: rollup() folds an
-- agent's messages above its watermark, up to its highest message_id, once
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour)
values ('00000000-0000-0000-0000-0000000000a9', 'folds', true, 100);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a9', '+14155550147', 'open', '{}', '2026-07-01 09:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a9', '+14155550147', 'fold', '{}', '2026-07-01 09:01+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000a9', '+14155550147', 'fold again', '{}', '2026-07-01 09:02+00');
select is((select count(*)::int from switchboard.stats_delta where agent_id = '00000000-0000-0000-0000-0000000000a9'), 0,
          'record_inbound stages nothing for a message');
select is(pg_temp.unfolded('00000000-0000-0000-0000-0000000000a9'), 3::bigint, 'three messages above the watermark');
select is(switchboard.rollup('00000000-0000-0000-0000-0000000000a9'), 3::bigint, 'rollup() folds the three messages');
select is(switchboard.rollup('00000000-0000-0000-0000-0000000000a9'), 0::bigint, 'a second rollup() finds nothing to fold');
select is((select folded_through from switchboard.stats_watermark where agent_id = '00000000-0000-0000-0000-0000000000a9'),
          (select max(message_id) from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000a9'),
          'the watermark is the agent''s highest message_id');
select results_eq(
    $$select inbound, accepted, new_conversations, unique_phones
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a9', '2026-07-01', '2026-07-01')$$,
    $$values (3::bigint, 3::bigint, 1::bigint, 1::bigint)$$,
    'folded: every message counted once');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000a9', 'folded: incremental equals rebuilt');
-- a fold of staged rows (calls, a message fold's day rows) deletes its agent's rows in a plain scan of the index on (agent_id,
-- delta_id) even when the statistics say one agent owns every staged row, where
-- the planner would rather read the whole heap, or take a bitmap scan (which
-- visits the heap page of every dead entry and never marks them dead).  0.7.0: a
-- busy agent's folds paid for every page of deleted rows between vacuums.
-- (the table's scans count sequential scans; the index's fetched tuples count
-- the rows a plain index scan fetched, not a bitmap scan's)
insert into switchboard.stats_delta (agent_id, day, inbound)
select '00000000-0000-0000-0000-0000000000a9', '2026-07-02', 0 from generate_series(1, 300);
analyze switchboard.stats_delta;
create temp table fold_scans as
select pg_stat_get_xact_numscans('switchboard.stats_delta'::regclass) as seq_scan,
       pg_stat_get_xact_tuples_fetched('switchboard.stats_delta_pkey'::regclass) as idx_tup_fetch;
select is(switchboard.rollup('00000000-0000-0000-0000-0000000000a9'), 300::bigint, 'rollup() folds a busy agent''s 300 rows');
select results_eq(
    $$select pg_stat_get_xact_numscans('switchboard.stats_delta'::regclass) - f.seq_scan,
             pg_stat_get_xact_tuples_fetched('switchboard.stats_delta_pkey'::regclass) - f.idx_tup_fetch
        from fold_scans f$$,
    $$values (0::bigint, 300::bigint)$$,
    'the fold reads the staged rows in a plain index scan, not the heap or a bitmap');

-- 9e. sessions: a session after the timeout, a session changed by hand, raw
-- rows deleted by hand and rebuilt: the next message counts as a rebuild
-- counts it (0.6.0 to 0.8.0 kept an analytics mark on the conversation for
-- this, gone in 0.9.0)
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, session_timeout_minutes)
values ('00000000-0000-0000-0000-0000000000aa', 'marked', true, 100, 30);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'open', '{}', '2026-08-01 09:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'probe', '{}', '2026-08-01 09:01+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000aa', c.conversation_id, 'reply', '{}', '2026-08-01 09:02+00')
  from switchboard.conversations c where c.agent_id = '00000000-0000-0000-0000-0000000000aa';
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'marked', '{}', '2026-08-01 09:03+00');
-- after the session timeout: a new session
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'later', '{}', '2026-08-01 11:00+00');
select results_eq(
    $$select inbound, outbound, new_conversations, new_sessions, unique_phones, replies
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000aa', '2026-08-01', '2026-08-01')$$,
    $$values (4::bigint, 1::bigint, 1::bigint, 2::bigint, 1::bigint, 1::bigint)$$,
    'sessions: a session after the timeout, a reply');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000aa', 'sessions: incremental equals rebuilt');
-- a session set by hand: the next message counts as the first of that session
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'remark', '{}', '2026-08-01 11:01+00');
update switchboard.conversations set session_id = gen_random_uuid()
 where agent_id = '00000000-0000-0000-0000-0000000000aa';
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'by hand', '{}', '2026-08-01 11:05+00');
select is((select new_sessions from switchboard.daily_stats('00000000-0000-0000-0000-0000000000aa', '2026-08-01', '2026-08-01')),
          3::bigint, 'sessions: after a session set by hand, the next message starts a session in the figures');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000aa', 'sessions: a session set by hand, incremental equals rebuilt');
-- raw messages deleted by hand, then a rebuild: it recomputes the first
-- messages (none are left) and leaves updated_at, so the next message is the
-- conversation's first again
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'again', '{}', '2026-08-01 11:06+00');
update switchboard.conversations set updated_at = '2026-08-01 12:00+00'
 where agent_id = '00000000-0000-0000-0000-0000000000aa';
delete from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000aa';
select switchboard.rebuild_stats('00000000-0000-0000-0000-0000000000aa');
select results_eq(
    $$select updated_at from switchboard.conversations where agent_id = '00000000-0000-0000-0000-0000000000aa'$$,
    $$values ('2026-08-01 12:00+00'::timestamptz)$$,
    'sessions: rebuild_stats leaves the conversations'' updated_at');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000aa', '+14155550148', 'after', '{}', '2026-08-02 09:00+00');
select results_eq(
    $$select inbound, new_conversations, new_sessions
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000aa', '2026-08-02', '2026-08-02')$$,
    $$values (1::bigint, 1::bigint, 1::bigint)$$,
    'sessions: after raw rows deleted by hand and a rebuild, the next message opens the conversation in the figures');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000aa', 'sessions: after a rebuild of hand-deleted rows, incremental equals rebuilt');

-- rejected messages on a conversation that talked: each decision counted
-- once, the phone once a day, none of them a new session or a reply
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, session_timeout_minutes)
values ('00000000-0000-0000-0000-0000000000ab', 'rejections', true, 2, 30);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'one', '{}', '2026-08-03 09:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'two', '{}', '2026-08-03 09:01+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'limited ' || i, '{}',
                                  '2026-08-03 09:02+00'::timestamptz + i * interval '1 minute')
  from generate_series(1, 3) i;
insert into switchboard.blocked_numbers (agent_id, phone) values ('00000000-0000-0000-0000-0000000000ab', '+14155550149');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'blocked', '{}', '2026-08-03 09:10+00');
delete from switchboard.blocked_numbers where agent_id = '00000000-0000-0000-0000-0000000000ab';
update switchboard.agents set sms_enabled = false where agent_id = '00000000-0000-0000-0000-0000000000ab';
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'disabled', '{}', '2026-08-03 09:11+00');
-- the next day: a rejected message is the phone's first of the day
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ab', '+14155550149', 'disabled too', '{}', '2026-08-04 09:00+00');
update switchboard.agents set sms_enabled = true where agent_id = '00000000-0000-0000-0000-0000000000ab';
select results_eq(
    $$select day, inbound, accepted, rate_limited, blocked, disabled, new_conversations, new_sessions, unique_phones
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000ab', '2026-08-03', '2026-08-04')$$,
    $$values ('2026-08-03'::date, 7::bigint, 2::bigint, 3::bigint, 1::bigint, 1::bigint, 1::bigint, 1::bigint, 1::bigint),
             ('2026-08-04', 1, 0, 0, 0, 1, 0, 0, 1)$$,
    'rejections: each decision counted once, the phone once a day, no session or conversation opened');
select is((select count(*) from switchboard.messages where agent_id = '00000000-0000-0000-0000-0000000000ab'),
          8::bigint, 'rejections: every message stored');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000ab', 'rejections: incremental equals rebuilt');

-- replies: after record_inbound, none after record_outbound; a message
-- inserted directly at the same moment is the last one before record_outbound's
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, session_timeout_minutes)
values ('00000000-0000-0000-0000-0000000000ac', 'replies', true, 100, 30);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ac', '+14155550150', 'open', '{}', '2026-08-05 09:00+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ac', '+14155550150', 'question', '{}', '2026-08-05 09:01+00');
create temp table cac as select conversation_id from switchboard.conversations
 where agent_id = '00000000-0000-0000-0000-0000000000ac';
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000ac', (select conversation_id from cac), 'answer', '{}', '2026-08-05 09:01:30+00');
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000ac', (select conversation_id from cac), 'more', '{}', '2026-08-05 09:02+00');
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ac', '+14155550150', 'thanks', '{}', '2026-08-05 09:03+00');
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body, created_at)
select '00000000-0000-0000-0000-0000000000ac', conversation_id, 'outbound', '+14155550150', 'by hand', '2026-08-05 09:03+00'
  from cac;
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000ac', (select conversation_id from cac), 'after hand', '{}', '2026-08-05 09:03+00');
select results_eq(
    $$select inbound, outbound, replies, reply_latency_avg
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000ac', '2026-08-05', '2026-08-05')$$,
    $$values (3::bigint, 4::bigint, 2::bigint, 15.000::numeric)$$,
    'replies: one per inbound answered; after a direct insert at the same moment, not a reply');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000ac', 'replies: incremental equals rebuilt');

-- 9f. an outbound message's AI task facts from awkward metadata, one message
-- each, in order (so each is staged by record_outbound's own statement): what
-- counts as a task (`?|`: any of the keys, also as an array element or a
-- scalar string), which values count (numbers, booleans, strings for the
-- category; top level only), rounding, scale, and an out-of-range count
insert into switchboard.agents (agent_id, display_name, sms_enabled, rate_limit_per_hour)
values ('00000000-0000-0000-0000-0000000000ad', 'ai facts', true, 100);
select switchboard.record_inbound('00000000-0000-0000-0000-0000000000ad', '+14155550160', 'hi', '{}', '2026-08-06 09:00+00');
create temp table cad as select conversation_id from switchboard.conversations
 where agent_id = '00000000-0000-0000-0000-0000000000ad';
select switchboard.record_outbound('00000000-0000-0000-0000-0000000000ad', (select conversation_id from cad), 'm' || i, md::jsonb,
                                   '2026-08-06 09:01+00'::timestamptz + i * interval '1 second')
  from unnest(array[
    '{"tokens_used": 41.5, "processing_ms": 180.25, "success": true, "category": "support"}',  -- rounds half up
    '{"tokens_used": "12", "success": "true", "category": 7, "processing_ms": null}',       -- keys, no facts
    '["category"]',                                                                          -- ?| on an array
    '"success"',                                                                             -- ?| on a scalar
    '{"processing_ms": 0.1234567, "tokens_used": -2.5}',                                     -- scale kept; -3
    '{"success": false, "category": "billing", "nested": {"tokens_used": 5}}',               -- top level only
    '{}']) with ordinality as t(md, i);
select results_eq(
    $$select outbound, ai_tasks, tokens_used, processing_ms_avg, success_rate, categories
        from switchboard.daily_stats('00000000-0000-0000-0000-0000000000ad', '2026-08-06', '2026-08-06')$$,
    $$values (7::bigint, 6::bigint, 39::bigint, 90.187::numeric, 0.5000::numeric,
              '{"billing": {"tasks": 1, "tokens": 0, "judged": 1, "succeeded": 0},
                "support": {"tasks": 1, "tokens": 42, "judged": 1, "succeeded": 1}}'::jsonb)$$,
    'record_outbound: AI task facts from awkward metadata (keys of any type, arrays, scalars, rounding, scale)');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000ad', 'AI task facts: incremental equals rebuilt');
select throws_ok($$select switchboard.record_outbound('00000000-0000-0000-0000-0000000000ad',
                     (select conversation_id from cad), 'huge', '{"tokens_used": 1e30}', '2026-08-06 09:02+00')$$,
                 '22003', 'bigint out of range', 'record_outbound: tokens beyond bigint fail (the cast to bigint)');

-- 11. (0.10.0) messages at the same instants (six of them), some sessions
-- shared by two conversations, folded in eight batches: the fold finds first
-- messages and reply starts by time in hash aggregates, and breaks ties by
-- message_id as a rebuild does
insert into switchboard.agents (agent_id, display_name, timezone) values
    ('00000000-0000-0000-0000-0000000000ae', 'ties', 'UTC');
insert into switchboard.conversations (agent_id, phone)
select '00000000-0000-0000-0000-0000000000ae', '+1201556' || lpad(i::text, 4, '0') from generate_series(1, 4) i;
create function pg_temp.tied_messages(a uuid, n integer) returns void
language plpgsql as $$
declare
    c record;
begin
    for i in 1 .. n loop
        select * into c from switchboard.conversations x where x.agent_id = a order by random() limit 1;
        insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, decision, created_at)
        values (a, c.conversation_id,
                ('00000000-0000-0000-0005-' || lpad(floor(random() * 3)::int::text, 12, '0'))::uuid,
                case when random() < 0.5 then 'inbound' else 'outbound' end, c.phone,
                case when random() < 0.85 then 'accepted' else 'blocked' end,
                '2026-01-05 00:00+00'::timestamptz + floor(random() * 6) * interval '1 hour');
    end loop;
end
$$;
do $$
begin
    for r in 1 .. 8 loop
        perform pg_temp.tied_messages('00000000-0000-0000-0000-0000000000ae', 12);
        perform count(*) from switchboard.daily_stats('00000000-0000-0000-0000-0000000000ae', '2026-01-05', '2026-01-05');
    end loop;
end
$$;
select results_eq($$select count(*), count(distinct m.created_at) from switchboard.messages m
                     where m.agent_id = '00000000-0000-0000-0000-0000000000ae'$$,
                  $$values (96::bigint, 6::bigint)$$, 'ties: 96 messages at six instants');
select pg_temp.matches_rebuild('00000000-0000-0000-0000-0000000000ae',
                               'ties: folded in eight batches, incremental equals rebuilt');

-- 10. errors
select throws_ok($$select * from switchboard.daily_stats('00000000-0000-0000-0000-00000000dead', '2026-01-01', '2026-01-02')$$,
                 'P0002', 'agent "00000000-0000-0000-0000-00000000dead" does not exist', 'unknown agent: P0002');
select throws_ok($$select * from switchboard.daily_stats('00000000-0000-0000-0000-0000000000a1', '2026-01-02', '2026-01-01')$$,
                 '22023', null, 'from after to: 22023');
select throws_ok($$select * from switchboard.agent_summary('00000000-0000-0000-0000-0000000000a1', 0)$$,
                 '22023', null, 'a window of 0 days: 22023');
select throws_ok($$select switchboard.purge('-1 day')$$, '22023', null, 'a negative retention: 22023');

-- 12. (0.11.0) the fold's per-agent statements keep one generic plan per
-- session: planned again for each agent they cost a third of a fold of many
-- small batches
select is((select count(*) filter (where 'plan_cache_mode=force_generic_plan' = any (p.proconfig))
             from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace
              and p.proname in ('stats_message_news', 'stats_message_deltas')),
          2::bigint,
          'the fold''s news and deltas run with plan_cache_mode = force_generic_plan');

select * from finish();
rollback;
