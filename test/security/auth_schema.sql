-- Supabase-like fixture with Supabase's own auth schema (created by
-- test/scripts/supabase.sh): switchboard.current_user_id() answers what
-- auth.uid() answers for every way PostgREST and apps set the JWT, so a
-- switchboard owner policy and a hand-written Supabase policy
-- (owner_id = auth.uid()) let the same rows through.
begin;
set local client_min_messages = warning;
select plan(13);

create temp table claim_cases (label text, claim_sub text, claims text);
insert into claim_cases values
    ('no claims at all',                      null, null),
    ('request.jwt.claims (PostgREST >= 9)',   null, '{"sub": "0a000000-0000-4000-8000-000000000001", "role": "authenticated"}'),
    ('request.jwt.claim.sub (PostgREST < 9)', '0b000000-0000-4000-8000-000000000002', null),
    ('both: claim.sub wins',                  '0b000000-0000-4000-8000-000000000002', '{"sub": "0a000000-0000-4000-8000-000000000001"}'),
    ('empty claim.sub falls back to claims',  '', '{"sub": "0a000000-0000-4000-8000-000000000001"}'),
    ('claims without sub (anon key)',         null, '{"role": "anon"}'),
    ('empty settings',                        '', '');

create function pg_temp.uid_pair(sub text, claims text) returns text
language plpgsql as $$
begin
    perform set_config('request.jwt.claim.sub', coalesce(sub, ''), true);
    perform set_config('request.jwt.claims', coalesce(claims, ''), true);
    return format('%s|%s', switchboard.current_user_id(), auth.uid());
end $$;

select is(split_part(pg_temp.uid_pair(claim_sub, claims), '|', 1),
          split_part(pg_temp.uid_pair(claim_sub, claims), '|', 2),
          'current_user_id() = auth.uid(): ' || label)
  from claim_cases order by label;

-- where they differ on purpose: an empty sub inside the claims is NULL for
-- switchboard; auth.uid() fails casting '' to uuid
select throws_ok($$ select pg_temp.uid_pair(null, '{"sub": ""}') $$, '22P02', null,
                 'auth.uid() fails on an empty sub in the claims ...');
select is((select set_config('request.jwt.claims', '{"sub": ""}', true) is not null
                  and switchboard.current_user_id() is null), true,
          '... where current_user_id() is NULL (no owner matches it)');

-- the same rows through switchboard's policy and a Supabase-style check
insert into auth.users (id, email) values
    ('0a000000-0000-4000-8000-000000000001', 'a@example.com'),
    ('0b000000-0000-4000-8000-000000000002', 'b@example.com');
insert into switchboard.agents (agent_id, owner_id, display_name) values
    ('a0000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-000000000001', 'A1'),
    ('a0000000-0000-4000-8000-00000000000b', '0a000000-0000-4000-8000-000000000001', 'A2'),
    ('b0000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-000000000002', 'B1');
do $$ begin
    perform set_config('request.jwt.claim.sub', '', true);
    perform set_config('request.jwt.claims', '{"sub": "0a000000-0000-4000-8000-000000000001", "role": "authenticated"}', true);
end $$;
set local role authenticated;
select is((select array_agg(display_name order by display_name) from switchboard.agents),
          array['A1', 'A2'], 'authenticated as user A: the owner policy shows A''s agents');
select is((select count(*)::int from switchboard.agents where owner_id is distinct from auth.uid()), 0,
          'every agent it shows has owner_id = auth.uid()');
select is(auth.role(), 'authenticated', 'auth.role() reads the same claims');
reset role;
select is((select count(*)::int from switchboard.agents where owner_id = '0a000000-0000-4000-8000-000000000001'), 2,
          'as the table owner: A has exactly those two agents (nothing hidden, nothing extra)');

select * from finish();
rollback;
