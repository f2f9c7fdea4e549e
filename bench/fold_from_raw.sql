-- A measurement sketch, not part of the extension: fold the messages with
-- message_id in (:lo, :hi] into the daily rollups in one set-based statement
-- (README, Analytics, "Folding from the raw rows instead of staging").  It
-- covers the message counts, AI tokens, replies and their latency (the previous
-- accepted message by lag() within the batch, an index probe only for a
-- conversation's first accepted message in it), the phones' seen-set and
-- session firsts; not the other AI facts, new conversations, decisions other
-- than accepted, or a late message's corrections.
--
-- bench/fold.bench.sh runs it every 20 s beside the stats mix.  Alone, against
-- a database that mix filled, rolled back:
--
--   psql -X -d DB -v lo=990000 -v hi=1000000 -c '\timing on' -c begin -f bench/fold_from_raw.sql -c rollback
--
-- and divide the INSERT's time by hi - lo.
with b as materialized (
    select m.*, (m.created_at at time zone a.timezone)::date as day
      from switchboard.agents a cross join lateral (
        select * from switchboard.messages m
         where m.agent_id = a.agent_id and m.message_id > :lo and m.message_id <= :hi) m
), acc as (
    select b.agent_id, b.conversation_id, b.message_id, b.created_at, b.day, b.direction,
           lag(b.direction) over w as lag_dir, lag(b.created_at) over w as lag_at
      from b where b.decision = 'accepted' and b.conversation_id is not null
    window w as (partition by b.agent_id, b.conversation_id order by b.created_at, b.message_id)
), prev as (
    select acc.agent_id, acc.day, acc.created_at,
           coalesce(acc.lag_dir, p.direction) as p_dir, coalesce(acc.lag_at, p.created_at) as p_at
      from acc left join lateral (
        select x.direction, x.created_at from switchboard.messages x
         where acc.lag_dir is null
           and x.agent_id = acc.agent_id and x.conversation_id = acc.conversation_id
           and x.decision = 'accepted'
           and (x.created_at, x.message_id) < (acc.created_at, acc.message_id)
         order by x.created_at desc, x.message_id desc limit 1) p on true
     where acc.direction = 'outbound'
), seen as (
    insert into switchboard.stats_seen (agent_id, kind, day, value)
    select distinct b.agent_id, 'phone', b.day, b.phone from b where b.direction = 'inbound'
    on conflict do nothing returning agent_id, day
), firsts as (
    insert into switchboard.stats_first (agent_id, kind, id, first_at, first_message_id, first_day)
    select distinct on (b.session_id) b.agent_id, 'session', b.session_id, b.created_at, b.message_id, b.day
      from b where b.session_id is not null
       and not exists (select from switchboard.stats_first f where f.agent_id = b.agent_id and f.kind = 'session' and f.id = b.session_id)
     order by b.session_id, b.created_at, b.message_id
    on conflict do nothing returning agent_id, first_day as day
), counts as (
    select b.agent_id, b.day,
           count(*) filter (where b.direction = 'inbound') as inbound,
           count(*) filter (where b.direction = 'inbound' and b.decision = 'accepted') as accepted,
           count(*) filter (where b.direction = 'outbound') as outbound,
           count(*) filter (where b.after_hours) as after_hours,
           count(*) filter (where b.direction = 'outbound' and b.metadata ?| array['tokens_used', 'processing_ms', 'success', 'category']) as ai_tasks,
           coalesce(sum((b.metadata ->> 'tokens_used')::numeric) filter (where jsonb_typeof(b.metadata -> 'tokens_used') = 'number'), 0) as ai_tokens
      from b group by 1, 2
), replies as (
    select agent_id, day, count(*) as replies, sum(extract(epoch from created_at) - extract(epoch from p_at)) as lat
      from prev where p_dir = 'inbound' group by 1, 2
), s as (select agent_id, day, count(*) as n from seen group by 1, 2),
f as (select agent_id, day, count(*) as n from firsts group by 1, 2)
insert into switchboard.stats_daily as t (agent_id, day, inbound, accepted, outbound, after_hours, ai_tasks, ai_tokens,
                                          replies, reply_latency_total, unique_phones, new_sessions)
select c.agent_id, c.day, c.inbound, c.accepted, c.outbound, c.after_hours, c.ai_tasks, c.ai_tokens,
       coalesce(r.replies, 0), coalesce(r.lat, 0), coalesce(s.n, 0), coalesce(f.n, 0)
  from counts c left join replies r using (agent_id, day) left join s using (agent_id, day) left join f using (agent_id, day)
on conflict (agent_id, day) do update set inbound = t.inbound + excluded.inbound, accepted = t.accepted + excluded.accepted,
   outbound = t.outbound + excluded.outbound, after_hours = t.after_hours + excluded.after_hours,
   ai_tasks = t.ai_tasks + excluded.ai_tasks, ai_tokens = t.ai_tokens + excluded.ai_tokens,
   replies = t.replies + excluded.replies, reply_latency_total = t.reply_latency_total + excluded.reply_latency_total,
   unique_phones = t.unique_phones + excluded.unique_phones, new_sessions = t.new_sessions + excluded.new_sessions;
