# Sourced by the concurrency scripts.
#
# holding SECS: waits (up to 10 s) until a holder started in the background
# runs its `select pg_sleep(SECS)`, i.e. holds whatever it took before that
# statement: a fixed sleep instead can be outrun by a slow machine.
holding() {
    local i
    for i in $(seq 200); do
        [ "$(psql -X -q -At -d postgres -c "select count(*) from pg_stat_activity
              where state = 'active' and query = 'select pg_sleep($1)'")" -gt 0 ] && return 0
        sleep 0.05
    done
    echo "holding: no session reached pg_sleep($1) in 10 s" >&2
    return 1
}
