#!/usr/bin/env bash
# Phone normalization, ns/row, on the cluster bench/run-bench.sh started:
#   (a) a naive plpgsql regexp normalizer, as seed schemas have it
#   (b) libphonenumber per row, the straightforward way (bench/naive_phone, bench-only module)
#   (c) switchboard.try_normalize_phone (normalize_phone without the error)
#   (d) the floor: length(input)
# over two sets:
#   mixed-cold  every corpus row once, in a fresh session after one warm-up call,
#               several sessions, median
#   canonical   200,000 distinct valid E.164 strings of the corpus's countries (warm, median of 3)
# and checks that (b) and (c) give identical answers on every row of both.
set -euo pipefail
ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
CORPUS=${SWITCHBOARD_CORPUS:?SWITCHBOARD_CORPUS must name phones_dev.tsv}
if [ "${BENCH_SCALE:-}" = small ]; then
    SESSIONS=3; CANONICAL=20000
else
    SESSIONS=7; CANONICAL=200000
fi
DB=bench_phone
export PGOPTIONS="-c max_parallel_workers_per_gather=0 -c jit=off"

# (b) lives in its own module, installed only here.
make -s -C "$ROOT/bench/naive_phone" install >/dev/null

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "set client_min_messages = warning" \
    -c "drop database if exists $DB" -c "create database $DB"
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

q <<SQL
set client_min_messages = warning;
create extension switchboard;
create schema bench;

-- (a) the naive regexp normalizer of seed schemas: strip non-digits, guess.
create function bench.naive_regex(raw text, region text) returns text
language plpgsql immutable as \$\$
declare
    d text;
begin
    if raw is null then
        return null;
    end if;
    d := regexp_replace(raw, '[^0-9+]', '', 'g');
    if d ~ '^\+[1-9][0-9]{6,14}\$' then
        return d;
    end if;
    d := regexp_replace(d, '[^0-9]', '', 'g');
    if d ~ '^00[1-9]' then
        return '+' || substr(d, 3);
    elsif length(d) = 10 then
        return '+1' || d;
    elsif length(d) = 11 and left(d, 1) = '1' then
        return '+' || d;
    end if;
    return null;
end \$\$;

-- (b) libphonenumber per row: Parse, IsPossibleNumber, Format.
create function bench.naive_lib(raw text, region text) returns text
as '\$libdir/naive_phone', 'naive_phone_normalize' language c immutable parallel safe;

-- Server-side wall time of one query, in ns.
create function bench.time_ns(query text) returns bigint
language plpgsql as \$\$
declare
    t0 timestamptz := clock_timestamp();
begin
    execute query;
    return (extract(epoch from clock_timestamp() - t0) * 1e9)::bigint;
end \$\$;

create table bench.corpus (input text, region text, expected text, is_valid boolean);
\copy bench.corpus from '$CORPUS' with (format text)
create table bench.mixed as select input, nullif(region, '') as region from bench.corpus;

-- canonical: the corpus's valid E.164 answers with other subscriber digits,
-- kept when libphonenumber calls them valid and already canonical.
select setseed(0.42);
create table bench.base as
    select distinct expected as e from bench.corpus where expected <> 'INVALID' and is_valid;
create table bench.canonical as
select c as e from (
    select distinct c from (
        select left(e, length(e) - 5) || lpad((floor(random() * 100000))::int::text, 5, '0') as c
        from bench.base, generate_series(1, ceil($CANONICAL * 1.5 / (select count(*) from bench.base))::int)
    ) candidates
    where switchboard.phone_is_valid(c) and switchboard.try_normalize_phone(c) = c
    limit $CANONICAL
) s order by md5(c);
analyze bench.mixed;
analyze bench.canonical;
SQL

rows_mixed=$(q -c "select count(*) from bench.mixed")
rows_canon=$(q -c "select count(*) from bench.canonical")
countries=$(q -c "select count(distinct (switchboard.phone_info(e)).country_code) from bench.canonical")

declare -A call=(
    [a]="bench.naive_regex(%s, %s)"
    [b]="bench.naive_lib(%s, %s)"
    [c]="switchboard.try_normalize_phone(%s, %s)"
    [d]="length(%s)"
)
expr() {  # which input region
    # shellcheck disable=SC2059
    if [ "$1" = d ]; then printf "${call[$1]}" "$2"; else printf "${call[$1]}" "$2" "$3"; fi
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# The warm-up call, the same for every function; its own time is reported as
# the one-time cost of a fresh session (loading the module, building tables).
declare -A mixed canon first
for f in a b c d; do
    warm=$(expr "$f" "'+1 201-555-0123'" "'US'")
    timed=$(expr "$f" input region)
    runs=""
    firsts=""
    for _ in $(seq "$SESSIONS"); do
        out=$(q -c "select bench.time_ns(\$w\$select $warm\$w\$)" \
            -c "select bench.time_ns('select count($timed) from bench.mixed')")
        # (no `| head`: with pipefail its SIGPIPE could end the script)
        firsts+="${out%%$'\n'*}"$'\n'
        runs+="${out##*$'\n'}"$'\n'
    done
    mixed[$f]=$(printf '%s' "$runs" | median | awk -v n="$rows_mixed" '{printf "%.1f", $1 / n}')
    first[$f]=$(printf '%s' "$firsts" | median | awk '{printf "%.1f", $1 / 1e6}')

    timed=$(expr "$f" e "null")
    out=$(q -c "select $warm" \
        -c "select bench.time_ns('select count($timed) from bench.canonical')" \
        -c "select bench.time_ns('select count($timed) from bench.canonical')" \
        -c "select bench.time_ns('select count($timed) from bench.canonical')" \
        -c "select bench.time_ns('select count($timed) from bench.canonical')" | tail -n 3)
    canon[$f]=$(printf '%s\n' "$out" | median | awk -v n="$rows_canon" '{printf "%.1f", $1 / n}')
done

same_mixed=$(q -c "select count(*) filter (where bench.naive_lib(input, region) is not distinct from switchboard.try_normalize_phone(input, region)) from bench.mixed")
same_canon=$(q -c "select count(*) filter (where bench.naive_lib(e, null) is not distinct from switchboard.try_normalize_phone(e)) from bench.canonical")
fixed_canon=$(q -c "select count(*) filter (where switchboard.normalize_phone(e) = e) from bench.canonical")

ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.1f", x / y}'; }
echo "phone normalization, ns/row (mixed-cold: $rows_mixed corpus rows, one fresh session each run after one"
echo "warm-up call, median of $SESSIONS sessions; canonical: $rows_canon distinct valid E.164 of $countries country codes, median of 3)"
printf '  %-38s %12s %12s %16s\n' "" mixed-cold canonical "first call (ms)"
printf '  %-38s %12s %12s %16s\n' "(a) naive plpgsql regexp" "${mixed[a]}" "${canon[a]}" "${first[a]}"
printf '  %-38s %12s %12s %16s\n' "(b) libphonenumber per row" "${mixed[b]}" "${canon[b]}" "${first[b]}"
printf '  %-38s %12s %12s %16s\n' "(c) switchboard.try_normalize_phone" "${mixed[c]}" "${canon[c]}" "${first[c]}"
printf '  %-38s %12s %12s %16s\n' "(d) floor: length(input)" "${mixed[d]}" "${canon[d]}" "${first[d]}"
r_mixed=$(ratio "${mixed[b]}" "${mixed[c]}")
r_canon=$(ratio "${canon[c]}" "${canon[d]}")
echo "ratios:"
echo "  mixed-cold: (b)/(c) = ${r_mixed}x faster than libphonenumber per row (target >= 10x)$(awk -v r="$r_mixed" 'BEGIN {print (r >= 10 ? "" : "  MISSED")}')"
echo "  mixed-cold: (a)/(c) = $(ratio "${mixed[a]}" "${mixed[c]}")x faster than the naive regexp"
echo "  canonical:  (c)/(d) = ${r_canon}x the floor (target <= 3x)$(awk -v r="$r_canon" 'BEGIN {print (r <= 3 ? "" : "  MISSED")}')"
echo "  canonical:  (b)/(c) = $(ratio "${canon[b]}" "${canon[c]}")x, (a)/(c) = $(ratio "${canon[a]}" "${canon[c]}")x"
echo "answers: (b) and (c) identical on $same_mixed/$rows_mixed mixed rows and $same_canon/$rows_canon canonical rows;"
echo "         normalize_phone(e) = e on $fixed_canon/$rows_canon canonical rows"
psql -X -q -d postgres -c "drop database $DB" >/dev/null
[ "$same_mixed" = "$rows_mixed" ] && [ "$same_canon" = "$rows_canon" ] && [ "$fixed_canon" = "$rows_canon" ]
