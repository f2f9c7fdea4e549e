-- Supabase-like fixture: what CREATE EXTENSION granted to anon, authenticated and
-- service_role, and the plans the owner policies give (index, evaluated once).
begin;
set local client_min_messages = warning;
select plan(30);

select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'fixture: service_role has BYPASSRLS');
select ok(not (select rolbypassrls from pg_roles where rolname = 'authenticated'), 'fixture: authenticated does not');

-- anon: nothing at all
select ok(not has_schema_privilege('anon', 'switchboard', 'usage'), 'anon has no usage on schema switchboard');
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p', 'S', 'v', 'm')
              and (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
                   or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete')
                   or has_table_privilege('anon', c.oid, 'truncate') or has_table_privilege('anon', c.oid, 'references')
                   or has_table_privilege('anon', c.oid, 'trigger'))),
          0, 'anon has no privilege on any table or sequence');
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace and has_function_privilege('anon', p.oid, 'execute')),
          0, 'anon can execute no function');
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace and has_function_privilege('public', p.oid, 'execute')),
          0, 'PUBLIC can execute no function');

-- authenticated and service_role: schema, every table, every public function
select ok(has_schema_privilege('authenticated', 'switchboard', 'usage'), 'authenticated has usage on the schema');
select ok(has_schema_privilege('service_role', 'switchboard', 'usage'), 'service_role has usage on the schema');
select ok(not has_schema_privilege('authenticated', 'switchboard', 'create'), 'authenticated cannot create in the schema');
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
              and not (has_table_privilege(r, c.oid, 'select') and has_table_privilege(r, c.oid, 'insert')
                       and has_table_privilege(r, c.oid, 'update') and has_table_privilege(r, c.oid, 'delete')))
         , 0, format('%s may select, insert, update, delete every table', r))
  from unnest(array['authenticated', 'service_role']) r;
select is((select count(*)::int from pg_class c
            where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'p')
              and (has_table_privilege(r, c.oid, 'truncate') or has_table_privilege(r, c.oid, 'trigger')
                   or has_table_privilege(r, c.oid, 'references'))),
          0, format('%s may not truncate, add triggers or reference a table', r))
  from unnest(array['authenticated', 'service_role']) r;
select set_eq(
    format($$select p.oid::regprocedure::text from pg_proc p
              where p.pronamespace = 'switchboard'::regnamespace and has_function_privilege(%L, p.oid, 'execute')$$, r),
    $$select p.oid::regprocedure::text from pg_proc p
       where p.pronamespace = 'switchboard'::regnamespace and p.prorettype <> 'trigger'::regtype
         and coalesce(obj_description(p.oid, 'pg_proc'), '') !~ '^internal'$$,
    format('%s can execute exactly the functions neither triggers nor marked internal', r))
  from unnest(array['authenticated', 'service_role']) r;
select is((select count(*)::int from pg_proc p
            where p.pronamespace = 'switchboard'::regnamespace and p.prorettype = 'trigger'::regtype
              and (has_function_privilege('authenticated', p.oid, 'execute')
                   or has_function_privilege('service_role', p.oid, 'execute'))),
          0, 'no trigger function is executable by authenticated or service_role');
select ok(not has_function_privilege('authenticated', 'switchboard.grant_usage(name)', 'execute'),
          'authenticated cannot run grant_usage');
select ok(not has_function_privilege('service_role', 'switchboard.grant_usage(name)', 'execute'),
          'service_role cannot run grant_usage');

-- the grants are the extension's own (pg_init_privs), so pg_dump leaves them to CREATE EXTENSION
select ok(exists (select from pg_init_privs i
                   where i.objoid = 'switchboard.agents'::regclass
                     and array_to_string(i.initprivs, ',') like '%authenticated=%'),
          'grants made at CREATE EXTENSION time are recorded as the extension''s initial privileges');

-- Plans, as authenticated: one InitPlan, index conditions, no per-row SubPlan
insert into switchboard.agents (agent_id, owner_id)
select gen_random_uuid(), case when i = 1 then '0a000000-0000-4000-8000-000000000001'::uuid else gen_random_uuid() end
  from generate_series(1, 50) i;
create function pg_temp.plan_as_owner(query text) returns text language plpgsql as $$
declare
    line text;
    plan text := '';
begin
    begin
        perform set_config('request.jwt.claims', '{"sub":"0a000000-0000-4000-8000-000000000001","role":"authenticated"}', true);
        perform set_config('role', 'authenticated', true);
        perform set_config('enable_seqscan', 'off', true);
        for line in execute 'explain (costs off) ' || query loop
            plan := plan || line || E'\n';
        end loop;
        raise sqlstate 'SBOK0';
    exception when sqlstate 'SBOK0' then
        null;
    end;
    return plan;
end
$$;

select matches(pg_temp.plan_as_owner('select * from switchboard.agents'),
               'Index Cond: \(owner_id = \$[0-9]+\)', 'agents: the policy is an index condition on owner_id');
select matches(pg_temp.plan_as_owner(format('select * from switchboard.%I', t)),
               'Index Cond: \(agent_id = ANY \(\$[0-9]+\)\)',
               format('%s: the policy is an index condition agent_id = ANY (InitPlan)', t))
  from unnest(array['blocked_numbers', 'conversations', 'messages', 'calls', 'agent_daily_counters']) t;
select doesnt_match(pg_temp.plan_as_owner(format('select * from switchboard.%I', t)),
                    'SubPlan', format('%s: nothing is evaluated per row', t))
  from unnest(array['agents', 'blocked_numbers', 'conversations', 'messages', 'calls']) t;

select * from finish();
rollback;
