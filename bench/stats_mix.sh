# Sourced by bench/stats.bench.sh and bench/fold.bench.sh: the stats bench's
# event mix.  100 agents x 500 conversations; each event is half record_inbound,
# half record_outbound with AI metadata, spread over the agents or all on agent 1.
#
#   stats_mix_setup              the agents and their conversations (psql from PG* env)
#   stats_mix_script KIND FILE   the pgbench script, KIND spread or hot
#   stats_mix_equals_rebuild     "yes" if agents 1-3's figures equal a rebuild
#                                (uses the caller's q: psql -At)
stats_mix_setup() {
    psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations)
select ('00000000-0000-0000-0000-' || lpad(a::text, 12, '0'))::uuid, true, 100, 1000
  from generate_series(1, 100) a;
insert into switchboard.conversations (agent_id, conversation_id, phone)
select ('00000000-0000-0000-0000-' || lpad(a::text, 12, '0'))::uuid,
       ('00000000-0000-' || lpad(a::text, 4, '0') || '-0000-' || lpad(p::text, 12, '0'))::uuid,
       '+1201555' || lpad(p::text, 4, '0')
  from generate_series(1, 100) a, generate_series(1, 500) p;
SQL
}
stats_mix_script() {
    local agent_expr='random(1, 100)'
    [ "$1" = hot ] && agent_expr='1'
    cat >"$2" <<EOT
\\set a $agent_expr
\\set p random(1, 500)
\\set d random(0, 1)
select case when :d = 0 then
  (select message_id from switchboard.record_inbound(('00000000-0000-0000-0000-' || lpad(:a::text, 12, '0'))::uuid,
     '+1201555' || lpad(:p::text, 4, '0'), 'hi'))
  else switchboard.record_outbound(('00000000-0000-0000-0000-' || lpad(:a::text, 12, '0'))::uuid,
     ('00000000-0000-' || lpad(:a::text, 4, '0') || '-0000-' || lpad(:p::text, 12, '0'))::uuid, 'hello',
     '{"tokens_used": 42, "processing_ms": 180, "success": true, "category": "support"}') end;
EOT
}

# stats_mix_equals_rebuild: "yes" if agents 1-3's daily_stats around today are
# what rebuild_stats recomputes from the raw rows, else "NO"
stats_mix_equals_rebuild() {
    local same=yes a id inc reb
    for a in 1 2 3; do
        id="00000000-0000-0000-0000-$(printf '%012d' $a)"
        inc=$(q -c "select md5(string_agg(row(d.*)::text, ',')) from switchboard.daily_stats('$id', current_date - 2, current_date + 1) d")
        q -c "select switchboard.rebuild_stats('$id')" >/dev/null
        reb=$(q -c "select md5(string_agg(row(d.*)::text, ',')) from switchboard.daily_stats('$id', current_date - 2, current_date + 1) d")
        [ "$inc" = "$reb" ] || same=NO
    done
    echo $same
}
