#!/usr/bin/env bash
# `make demo`: the extension and the client on a week of sample traffic.
#
# Without DATABASE_URL it starts its own cluster in build/demo-cluster (unix
# socket only, in build/demo-cluster/run, port DEMO_PORT=5499) and LEAVES IT
# RUNNING so you can look around; `make demo-stop` stops it, and a rerun of
# `make demo` replaces it.  With DATABASE_URL it uses that database.
# Called by `make demo` after the extension and the client are installed.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SB=$ROOT/build/switchboard
PG_CONFIG=${PG_CONFIG:-$(command -v /usr/lib/postgresql/15/bin/pg_config || command -v pg_config)}
PGBIN=$($PG_CONFIG --bindir)
DIR=$ROOT/build/demo-cluster
PORT=${DEMO_PORT:-5499}

as_owner() {  # the server must not run as root
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -n "${DATABASE_URL:-}" ]; then
    echo "== using DATABASE_URL"
    psql() { command psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }
else
    if [ -f "$DIR/data/postmaster.pid" ]; then
        echo "== stopping the previous demo cluster"
        as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR/data" "$DIR/run"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$DIR"
    echo "== a new cluster in build/demo-cluster (socket $DIR/run, port $PORT)"
    as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 ||
        { cat "$DIR/initdb.log"; exit 1; }
    as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories='$DIR/run' -p $PORT -c fsync=off" start >/dev/null ||
        { tail -n 20 "$DIR/server.log"; exit 1; }
    export PGHOST=$DIR/run PGPORT=$PORT PGUSER=postgres PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE
    psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
fi

ACME=a1a1a1a1-0000-4000-8000-000000000001
BISTRO=b2b2b2b2-0000-4000-8000-000000000002
NIGHT=c3c3c3c3-0000-4000-8000-000000000003

psql -c "create extension if not exists switchboard"
# A rerun against the same DATABASE_URL starts over with the demo agents.
psql -c "delete from switchboard.messages where agent_id in ('$ACME', '$BISTRO', '$NIGHT')" \
     -c "delete from switchboard.agents where agent_id in ('$ACME', '$BISTRO', '$NIGHT')"

echo "== three agents with different limits"
sb() { "$SB" ${DATABASE_URL:+--db "$DATABASE_URL"} "$@"; }
sb agents add --id $ACME --name "Acme Support" --sms --hourly 10 --daily 80 --region US --timezone America/New_York >/dev/null
sb agents add --id $BISTRO --name "Bistro Bookings" --sms --hourly 3 --daily 12 --region GB --timezone Europe/London \
    --welcome "Hi! Bistro Bookings here. How many people, and when?" >/dev/null
sb agents add --id $NIGHT --name "Night Line" --no-sms --region US >/dev/null
sb agents list
echo
echo "== blocking numbers (any spelling)"
sb agents block $ACME "(415) 555-0999" --reason "prize scam"
sb agents block $ACME "+1 312 555 0998" --reason "robotexts"
sb agents block $BISTRO "07400 999999" --reason "loan spam"
echo
echo "== normalize, as people write numbers"
printf '%s\n' "(201) 555-0123" "tel:+1-212-555-0666" "011 44 7400 123456" "12" | sb normalize --region US || true
sb normalize --region GB "07400 123456" "+1 (201) 555-0123"
echo
echo "== ingest client/demo/sample_traffic.csv (a week of SMS, the agents' replies and calls; make_sample_traffic.py made it)"
rc=0
sb ingest client/demo/sample_traffic.csv || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || exit $rc
echo "(the errors above are the sample's unparseable numbers: each is reported with its line, the rest went in)"
echo
echo "== what happened, per agent (SQL over the raw tables)"
psql -c "select a.display_name as agent,
                count(*) filter (where m.decision = 'accepted') as accepted,
                count(*) filter (where m.decision = 'blocked') as blocked,
                count(*) filter (where m.decision = 'disabled') as disabled,
                count(*) filter (where m.decision = 'rate_limited') as rate_limited,
                count(*) filter (where m.decision = 'daily_limit') as daily_limit,
                count(distinct m.conversation_id) as conversations
           from switchboard.messages m join switchboard.agents a using (agent_id)
          where m.direction = 'inbound'
          group by a.display_name order by a.display_name"
echo "== calls"
psql -c "select a.display_name as agent, c.status, count(*) as calls,
                round(avg(c.duration_seconds)) as avg_seconds
           from switchboard.calls c join switchboard.agents a using (agent_id)
          group by a.display_name, c.status order by a.display_name, count(*) desc" 2>/dev/null ||
    echo "(no calls table data)"
echo "== the busiest conversations"
psql -c "select a.display_name as agent, c.phone, c.message_count as messages, c.inbound_count as inbound,
                c.last_message_at
           from switchboard.conversations c join switchboard.agents a using (agent_id)
          order by c.message_count desc limit 5"

# The week of the sample (UTC days of its first and last events; the agent's
# New York days fall inside).
FROM=$(tail -n +2 client/demo/sample_traffic.csv | cut -d, -f2 | cut -c1-10 | sort | head -n 1)
TO=$(tail -n +2 client/demo/sample_traffic.csv | cut -d, -f2 | cut -c1-10 | sort | tail -n 1)
echo
echo "== switchboard stats --agent $ACME --from $FROM --to $TO  (Acme Support; --days N for the last N days, --format csv|json for scripts)"
sb stats --agent $ACME --from "$FROM" --to "$TO"
echo
if [ -z "${DATABASE_URL:-}" ]; then
    cat <<EOF
== the demo cluster is still running
connect:  psql -h $DIR/run -p $PORT -U postgres postgres
          $SB --db "host=$DIR/run port=$PORT user=postgres dbname=postgres" agents list
stop:     make demo-stop
          (or: $( [ "$(id -u)" = 0 ] && echo "runuser -u postgres -- ")$PGBIN/pg_ctl -D $DIR/data stop)
EOF
fi
