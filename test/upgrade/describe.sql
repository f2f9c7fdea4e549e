-- Every object of the switchboard extension, one line each, in a stable order:
-- what test/scripts/upgrade.sh compares between a database updated with
-- ALTER EXTENSION switchboard UPDATE and one made by CREATE EXTENSION.
-- Names only, never OIDs, so two databases compare equal.  A NULL ACL is shown
-- as the default it stands for (0.1.0 revoked anon from every sequence,
-- which made their owner-only ACL explicit; the meaning is the same).
with ext as (
    select oid, extconfig, extcondition from pg_extension where extname = 'switchboard'
), members as (
    select d.classid, d.objid, d.objsubid
      from pg_depend d, ext
     where d.refclassid = 'pg_extension'::regclass and d.refobjid = ext.oid and d.deptype = 'e'
), rels as (
    select c.* from pg_class c where c.relnamespace = 'switchboard'::regnamespace
), lines as (
    -- membership: every object the extension owns
    select 'member ' || pg_describe_object(classid, objid, objsubid) as line from members
    union all
    -- functions: full definition, privileges, comment
    select 'function ' || p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
           || E'\nacl ' || coalesce(array_to_string(array(select unnest(coalesce(p.proacl, acldefault('f', p.proowner)))::text order by 1), ','), '-')
           || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
      from pg_proc p where p.pronamespace = 'switchboard'::regnamespace and p.prokind <> 'a'
    union all
    select 'aggregate ' || p.oid::regprocedure || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
      from pg_proc p where p.pronamespace = 'switchboard'::regnamespace and p.prokind = 'a'
    union all
    -- relations: kind, options, RLS flags, privileges, comment
    select format('relation %s kind=%s options=%s rls=%s force=%s persistence=%s acl=%s comment=%s',
                  c.relname, c.relkind, c.reloptions, c.relrowsecurity, c.relforcerowsecurity,
                  c.relpersistence,
                  coalesce(array_to_string(array(select unnest(coalesce(c.relacl, acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner)))::text order by 1), ','), '-'),
                  coalesce(obj_description(c.oid, 'pg_class'), '-'))
      from rels c
    union all
    -- columns, in order: a new column must come last in a fresh install too
    select format('column %s.%s #%s %s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%s',
                  c.relname, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                  coalesce(array_to_string(a.attacl::text[], ','), '-'),
                  coalesce(col_description(c.oid, a.attnum), '-'))
      from rels c
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_attrdef ad on ad.adrelid = c.oid and ad.adnum = a.attnum
     where c.relkind in ('r', 'p', 'v', 'm', 'c', 'f')
    union all
    select format('constraint %s.%s %s comment=%s', c.relname, k.conname, pg_get_constraintdef(k.oid),
                  coalesce(obj_description(k.oid, 'pg_constraint'), '-'))
      from pg_constraint k join rels c on c.oid = k.conrelid
    union all
    select format('index %s comment=%s', pg_get_indexdef(i.indexrelid),
                  coalesce(obj_description(i.indexrelid, 'pg_class'), '-'))
      from pg_index i join rels c on c.oid = i.indrelid
    union all
    select format('trigger %s enabled=%s comment=%s', pg_get_triggerdef(t.oid), t.tgenabled,
                  coalesce(obj_description(t.oid, 'pg_trigger'), '-'))
      from pg_trigger t join rels c on c.oid = t.tgrelid where not t.tgisinternal
    union all
    select format('policy %s.%s cmd=%s permissive=%s roles=%s using=%s check=%s comment=%s',
                  c.relname, p.polname, p.polcmd, p.polpermissive,
                  array(select coalesce(r.rolname, 'public') from unnest(p.polroles) u(o)
                          left join pg_roles r on r.oid = u.o order by 1),
                  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
                  coalesce(obj_description(p.oid, 'pg_policy'), '-'))
      from pg_policy p join rels c on c.oid = p.polrelid
    union all
    select format('type %s kind=%s base=%s acl=%s comment=%s', t.typname, t.typtype,
                  format_type(t.typbasetype, t.typtypmod),
                  coalesce(array_to_string(t.typacl::text[], ','), '-'),
                  coalesce(obj_description(t.oid, 'pg_type'), '-'))
      from pg_type t
     where t.typnamespace = 'switchboard'::regnamespace and t.typtype in ('d', 'e', 'b', 'r', 'm')
    union all
    select format('domain constraint %s %s', t.typname, pg_get_constraintdef(k.oid))
      from pg_constraint k join pg_type t on t.oid = k.contypid
     where t.typnamespace = 'switchboard'::regnamespace
    union all
    select format('enum %s %s', t.typname, array(select e.enumlabel from pg_enum e
                                                  where e.enumtypid = t.oid order by e.enumsortorder))
      from pg_type t where t.typnamespace = 'switchboard'::regnamespace and t.typtype = 'e'
    union all
    select format('sequence %s %s', s.seqrelid::regclass, row(s.seqtypid::regtype, s.seqstart,
                  s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle))
      from pg_sequence s join rels c on c.oid = s.seqrelid
    union all
    -- privileges as the extension set them (pg_dump compares against these)
    select format('init_privs %s %s', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid),
                  array(select unnest(ip.initprivs)::text order by 1))
      from pg_init_privs ip
      join members m on m.classid = ip.classoid and m.objid = ip.objoid
      left join pg_class c on ip.classoid = 'pg_class'::regclass and c.oid = ip.objoid and ip.objsubid = 0
     where c.oid is null
        or ip.initprivs <> acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner)
    union all
    -- what pg_dump keeps
    select format('config_dump %s %s', cfg.rel::regclass, cfg.cond)
      from ext, unnest(ext.extconfig, ext.extcondition) cfg(rel, cond)
    union all
    select format('schema acl=%s comment=%s',
                  coalesce(array_to_string(array(select unnest(n.nspacl)::text order by 1), ','), '-'),
                  coalesce(obj_description(n.oid, 'pg_namespace'), '-'))
      from pg_namespace n where n.nspname = 'switchboard'
)
select line from lines order by line;
