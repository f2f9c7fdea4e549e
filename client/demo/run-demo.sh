#!/usr/bin/env bash
# `make demo`: a throwaway cluster (unless DATABASE_URL is set), the extension,
# and a look at what it does.  The client and sample traffic replace the
# psql calls below once they exist.
set -eu
cd "$(dirname "$0")/../.."

if [ -z "${DATABASE_URL:-}" ] && [ -z "${SB_IN_CLUSTER:-}" ]; then
    exec pg_virtualenv -v "${PG_MAJOR:-15}" env SB_IN_CLUSTER=1 bash "$0" "$@"
fi
db=${DATABASE_URL:-}
psql() { command psql -X -q -v ON_ERROR_STOP=1 ${db:+"$db"} "$@"; }

psql -c "create extension if not exists switchboard"
echo "== phone numbers, as people and providers write them"
psql -c "select raw, region, switchboard.try_normalize_phone(raw, region) as e164,
                (switchboard.phone_info(raw, region)).number_type
           from (values ('(201) 555-0123', 'US'), ('00 44 7400 123456', 'DE'),
                        ('tel:+49-30-123456', null), ('07400 123456', 'GB'),
                        ('1-800-FLOWERS', 'US')) as t(raw, region)"
echo "(no client demo yet: the event path and the client come in later issues)"
