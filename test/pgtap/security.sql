-- Security on plain Postgres (no anon/authenticated/service_role when the
-- extension was created): RLS and policies on every table, dump registration,
-- nothing granted, current_user_id, grant_usage for an app role.
-- The Supabase-like fixture and the full matrix are test/scripts/supabase.sh.
begin;
select plan(45);

-- every table: row-level security, a policy, registered for pg_dump
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
              and not c.relrowsecurity),
          0, 'no table of schema switchboard lacks row-level security');
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
              and not exists (select from pg_policy p where p.polrelid = c.oid)),
          0, 'no table of schema switchboard lacks a policy');
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p', 'S')
              and c.oid <> all ((select extconfig from pg_extension where extname = 'switchboard')::oid[])),
          0, 'every table and sequence of schema switchboard is registered with pg_extension_config_dump');
select ok(c.relrowsecurity, format('%s has row-level security', c.relname))
  from pg_class c
 where c.relnamespace = 'switchboard'::regnamespace
   and c.relname in ('agents', 'blocked_numbers', 'conversations', 'messages', 'calls', 'agent_daily_counters')
 order by c.relname;
select ok(not c.relforcerowsecurity, format('%s: the owner is not forced through the policies', c.relname))
  from pg_class c
 where c.relnamespace = 'switchboard'::regnamespace and c.relname in ('agents', 'messages')
 order by c.relname;

-- nothing granted to anyone but the owner
select is((select nspacl from pg_namespace where nspname = 'switchboard'), null,
          'no privilege on the schema for any role but its owner');
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relacl is not null
              and exists (select from aclexplode(c.relacl) a where a.grantee <> c.relowner)),
          0, 'no privilege on any table or sequence for any role but the owner');
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace
              and exists (select from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                           where a.grantee <> p.proowner)),
          0, 'no function executable by any role but the owner (not even PUBLIC)');

-- no SECURITY DEFINER; every SQL and PL/pgSQL function pins its search_path
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace and p.prosecdef),
          0, 'no function is SECURITY DEFINER');
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace
              and p.prolang in (select oid from pg_language where lanname in ('sql', 'plpgsql'))
              and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false)),
          0, 'every SQL and PL/pgSQL function has SET search_path = pg_catalog, pg_temp');

-- current_user_id: as auth.uid() reads the JWT
select is(switchboard.current_user_id(), null, 'no JWT: NULL');
select from set_config('request.jwt.claims', '{"sub":"0a000000-0000-4000-8000-000000000001","role":"authenticated"}', true);
select is(switchboard.current_user_id(), '0a000000-0000-4000-8000-000000000001', 'request.jwt.claims ->> sub');
select from set_config('request.jwt.claim.sub', '0b000000-0000-4000-8000-000000000002', true);
select is(switchboard.current_user_id(), '0b000000-0000-4000-8000-000000000002', 'request.jwt.claim.sub comes first');
select from set_config('request.jwt.claim.sub', '', true);
select is(switchboard.current_user_id(), '0a000000-0000-4000-8000-000000000001', 'an empty claim.sub falls back to claims');
select from set_config('request.jwt.claims', '{"role":"anon"}', true);
select is(switchboard.current_user_id(), null, 'claims without sub: NULL');
select from set_config('request.jwt.claims', '{"sub":""}', true);
select is(switchboard.current_user_id(), null, 'an empty sub: NULL');
select from set_config('request.jwt.claims', '', true);
select is(switchboard.current_user_id(), null, 'empty claims: NULL');
select throws_ok($$select set_config('request.jwt.claims', '{"sub":"not-a-uuid"}', true), switchboard.current_user_id()$$,
                 '22P02', null, 'a sub that is not a uuid is an error, as with auth.uid()');
select from set_config('request.jwt.claims', '', true);
select is((select provolatile::text from pg_proc where oid = 'switchboard.current_user_id()'::regprocedure), 's',
          'current_user_id is STABLE');

-- the owner (here a superuser) uses everything; an unknown agent is P0002
insert into switchboard.agents (agent_id, owner_id, sms_enabled)
values ('a0000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-000000000001', true),
       ('b0000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-000000000002', true);
select is((select count(*)::int from switchboard.agents), 2, 'the owner of the tables sees every agent');
select is((select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550142', 'hi')),
          'accepted', 'the owner records an inbound message');
select throws_ok($$select * from switchboard.record_inbound('f0000000-0000-4000-8000-00000000000f', '+12015550142', 'hi')$$,
                 'P0002', 'agent "f0000000-0000-4000-8000-00000000000f" does not exist',
                 'the owner calling for an unknown agent gets P0002');
select throws_ok($$select switchboard.agent_not_found('f0000000-0000-4000-8000-00000000000f')$$,
                 'P0002', 'agent "f0000000-0000-4000-8000-00000000000f" does not exist',
                 'agent_not_found without row-level security: P0002');

-- grant_usage: the one statement that lets an app role in
create role sb_app_role nologin;
select throws_ok($$select switchboard.grant_usage('anon')$$, '22023', null, 'grant_usage refuses anon');
select lives_ok($$select switchboard.grant_usage('sb_app_role')$$, 'grant_usage for an app role');
select ok(has_schema_privilege('sb_app_role', 'switchboard', 'usage'), 'the app role has usage on the schema');
select ok(has_table_privilege('sb_app_role', 'switchboard.messages', 'select, insert, update, delete'),
          'the app role has DML on the tables');
select ok(not has_function_privilege('sb_app_role', 'switchboard.guard_selftest(text)', 'execute'),
          'the app role cannot run internal functions');
select ok(has_function_privilege('sb_app_role', 'switchboard.record_inbound(uuid,text,text,jsonb,timestamptz)', 'execute'),
          'the app role can run record_inbound');

create function pg_temp.as_app(sub text, query text) returns text language plpgsql as $$
declare
    result text;
begin
    begin
        perform set_config('request.jwt.claims', format('{"sub":"%s"}', sub), true);
        perform set_config('role', 'sb_app_role', true);
        execute query into result;
        raise sqlstate 'SBOK0';
    exception when others then
        if sqlstate <> 'SBOK0' then
            result := sqlstate || ': ' || sqlerrm;
        end if;
    end;
    return result;
end
$$;
select is(pg_temp.as_app('0a000000-0000-4000-8000-000000000001', 'select string_agg(agent_id::text, '','') from switchboard.agents'),
          'a0000000-0000-4000-8000-00000000000a', 'the app role sees only the caller''s agents');
select is(pg_temp.as_app('0a000000-0000-4000-8000-000000000001', 'select count(*) from switchboard.messages'),
          '1', 'and only their messages');
select is(pg_temp.as_app('0b000000-0000-4000-8000-000000000002', 'select count(*) from switchboard.messages'),
          '0', 'another owner sees none of them');
select is(pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
                         $$select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550142', 'hi')$$),
          '42501: permission denied for agent "a0000000-0000-4000-8000-00000000000a"',
          'another owner recording for the agent gets 42501 naming it');
select is(pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
                         $$select decision from switchboard.record_inbound('f0000000-0000-4000-8000-00000000000f', '+12015550142', 'hi')$$),
          '42501: permission denied for agent "f0000000-0000-4000-8000-00000000000f"',
          'an unknown agent looks the same: no leak of existence');
select is(pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
                         $$select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550142', 'again')$$),
          'accepted', 'the owner records through the app role');
select is(pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
                         $$update switchboard.agents set owner_id = '0b000000-0000-4000-8000-000000000002' where agent_id = 'a0000000-0000-4000-8000-00000000000a'$$),
          '42501: new row violates row-level security policy for table "agents"',
          'an owner cannot hand its agent to someone else');
select is(pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
                         $$update switchboard.conversations set rate_window = '{}' where agent_id = 'a0000000-0000-4000-8000-00000000000a' returning 'edited'$$),
          'edited', 'an owner may edit its own conversation state (rate_window): documented, not protected');
select is(pg_temp.as_app('00000000-0000-4000-8000-000000000000', 'select count(*) from switchboard.conversations'),
          '0', 'a subject owning nothing sees nothing');
select is(pg_temp.as_app('', 'select count(*) from switchboard.agents'),
          '0', 'no subject: nothing');

select * from finish();
rollback;
